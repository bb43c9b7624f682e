// loader.py: no scripts, no Java delegates, no element types the engine does not run.
const { is, isAny } = require('bpmnlint-utils');
const { attr, extensions, rule } = require('../util');

const TYPES = {
  'bpmn:ScriptTask': '不允许脚本任务：请改用服务任务并选择已登记的动作',
  'bpmn:BusinessRuleTask': '不支持业务规则任务',
  'bpmn:SendTask': '不支持发送任务',
  'bpmn:ComplexGateway': '不支持复杂网关',
  'bpmn:Transaction': '不支持事务子流程',
};
const DELEGATES = ['camunda:class', 'camunda:expression', 'camunda:delegateExpression', 'camunda:resultVariable'];
const LISTENERS = {
  'camunda:TaskListener': '不支持任务监听器：完成任务时的动作请用 onComplete 属性',
  'camunda:ExecutionListener': '不支持执行监听器',
  'camunda:InputOutput': '不支持 camunda:inputOutput 输入输出映射',
};

module.exports = rule(function (node, reporter) {
  for (const [type, message] of Object.entries(TYPES)) {
    if (is(node, type)) reporter.report(node.id, message);
  }
  if (!isAny(node, ['bpmn:FlowElement', 'bpmn:Process'])) return;
  for (const name of DELEGATES) {
    if (attr(node, name)) reporter.report(node.id, `不允许使用 ${name}：自动步骤请选择已登记的动作`);
  }
  for (const [type, message] of Object.entries(LISTENERS)) {
    if (extensions(node, type).length) reporter.report(node.id, message);
  }
});
