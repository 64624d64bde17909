// API error codes ({code, message}) the console translates, nested by the code's dots
// (auth.invalid_credentials → auth: { invalid_credentials }); others show the server's message.
export default {
  network: '网络异常，请检查连接后重试',
  rate_limited: '操作太频繁，请稍后再试',
  auth: {
    invalid_credentials: '用户名或密码错误',
    locked: '账号已被临时锁定，请 15 分钟后再试',
    totp_required: '请输入动态验证码',
    totp_enrollment_required: '管理员必须开启两步验证，请联系运维执行 baodan users totp',
    required: '请先登录',
    forbidden: '没有权限执行该操作',
    csrf: '会话校验失败，请刷新页面',
  },
  users: {
    weak_password: '密码太弱：至少 10 个字符，且不能与当前密码相同',
    exists: '用户名已存在',
    not_found: '用户不存在或无权查看',
    unknown_role: '角色不存在',
    unknown_scope: '所选店铺或仓库不存在',
    escalation: '不能授予自己没有的权限，或超出自己数据范围的店铺、仓库',
    last_owner: '这是最后一个启用的老板账号：请先让其他人成为老板',
  },
  roles: {
    builtin: '内置角色不能修改或删除',
    in_use: '仍有用户持有该角色：请先为他们更换角色',
    not_found: '角色不存在',
    unknown_permission: '包含未知的权限',
  },
  api_keys: { not_found: 'API 密钥不存在或已吊销' },
  catalog: {
    not_found: '记录不存在或无权查看',
    duplicate_code: '编码已存在',
    invalid_reference: '引用的商品、店铺、仓库或 SKU 不存在',
    invalid_bundle: '组合装不合法：子 SKU 须已存在、不重复，且不能是组合装或其本身',
  },
  inventory: {
    below_reserved: '在库数量不能少于已占用的数量',
    unknown_level: 'SKU 或仓库不存在（或无权操作该仓库）',
    invalid_adjustment: '调整数量不合法',
    level_conflict: '库存正被同时修改，请刷新后重试',
  },
  export: { daily_cap: '今日导出行数已达上限' },
  request: { not_found: '记录不存在或无权查看' },
  orders: { not_found: '订单不存在或无权查看' },
  fulfilment: {
    split_no_lines: '请选择要拆出的商品',
    split_all_lines: '不能拆出全部商品：原订单至少要留下一个商品',
    split_bad_lines: '所选商品不属于该订单，请刷新后重试',
    not_splittable: '该订单现在不能拆单：仅缺货等待中或尚未分配快递的订单可拆',
  },
}
