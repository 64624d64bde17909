export default {
  owner: '老板', operator: '运营', warehouse: '仓库', service: '客服', purchasing: '采购', finance: '财务', auditor: '审计',
}
