export default {
  owner: 'Owner', operator: 'Operator', warehouse: 'Warehouse', service: 'Customer service', purchasing: 'Purchasing',
  finance: 'Finance', auditor: 'Auditor',
}
