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
  users: { weak_password: '密码太弱：至少 10 个字符，且不能与当前密码相同' },
  export: { daily_cap: '今日导出行数已达上限' },
  request: { not_found: '记录不存在或无权查看' },
  orders: { not_found: '订单不存在或无权查看' },
}
