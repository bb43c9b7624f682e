// Chinese labels for the modeler (palette, context pad, properties panel, lint): bpmn-js's `translate` service
// with our dictionary; `{name}` placeholders are filled as bpmn-js does. The token simulation writes English into
// the page without asking `translate`; translatePage() rewrites those words as they appear (it starts when this
// module loads, on the designer pages only, which are the only ones that load the modeler bundle).
const ZH = {
  // properties panel: groups
  General: '基本信息',
  Documentation: '说明',
  'Element documentation': '元素说明',
  'Process documentation': '流程说明',
  'User assignment': '办理人',
  Forms: '表单',
  'Form fields': '表单字段',
  'Extension properties': '扩展属性',
  'Asynchronous continuations': '异步继续',
  'Candidate starter': '可发起人',
  'Multi-instance': '多实例',
  Timer: '定时',
  Condition: '条件',
  Implementation: '实现',
  'Called element': '调用的流程',
  'Job execution': '作业执行',
  Template: '动作模板',
  // properties panel: entries
  Name: '名称',
  ID: '标识',
  Type: '类型',
  Label: '标签',
  Value: '值',
  Values: '可选值',
  'Default value': '默认值',
  Constraints: '校验规则',
  Config: '参数',
  Properties: '属性',
  Assignee: '办理人',
  'Candidate groups': '候选组',
  'Candidate users': '候选人',
  'Due date': '办理期限',
  'Follow up date': '跟进日期',
  Priority: '优先级',
  Topic: '动作（topic）',
  'Candidate starter groups': '可发起的组',
  'Candidate starter users': '可发起的用户',
  Executable: '可执行',
  'Process ID': '流程标识',
  'Condition expression': '条件表达式',
  Expression: '表达式',
  Collection: '集合变量',
  'Element variable': '元素变量',
  'Loop cardinality': '循环次数',
  'Completion condition': '完成条件',
  Duration: '时长',
  Date: '日期',
  Cycle: '循环',
  Before: '之前',
  After: '之后',
  'Form key': '表单键',
  'Generated Task Forms': '生成的任务表单',
  'Embedded or External Task Forms': '嵌入或外部表单',
  'Camunda Forms': 'Camunda 表单',
  '<none>': '<无>',
  '<empty>': '<空>',
  Create: '新建',
  'Create new list item': '新建一项',
  'Delete item': '删除此项',
  'Toggle section': '展开/折叠',
  'Toggle list item': '展开/折叠',
  'List contains {numOfItems} items': '共 {numOfItems} 项',
  'List contains 1 item': '共 1 项',
  Select: '选择',
  Unlink: '解除关联',
  Remove: '移除',
  'Select template': '选择动作',
  // palette and context pad
  'Activate hand tool': '抓手工具',
  'Activate lasso tool': '套索工具',
  'Activate create/remove space tool': '插入/删除空间',
  'Activate global connect tool': '连线工具',
  'Create start event': '开始事件',
  'Create end event': '结束事件',
  'Create intermediate/boundary event': '中间/边界事件',
  'Create gateway': '网关',
  'Create task': '任务',
  'Create expanded sub-process': '展开的子流程',
  'Create pool/participant': '池/参与者',
  'Create group': '分组',
  'Create data object reference': '数据对象',
  'Create data store reference': '数据存储',
  'Append end event': '追加结束事件',
  'Append gateway': '追加网关',
  'Append task': '追加任务',
  'Append intermediate/boundary event': '追加中间事件',
  'Append text annotation': '追加注释',
  'Change element': '更改类型',
  'Change type': '更改类型',
  Delete: '删除',
  'Connect using sequence/message flow or association': '连线',
  'Connect to other element': '连线',
  'Add lane above': '在上方添加泳道',
  'Add lane below': '在下方添加泳道',
  'Divide into two lanes': '分成两条泳道',
  'Divide into three lanes': '分成三条泳道',
  'Append element': '追加元素',
  // bpmnlint: the summary button and the messages of the built-in rules (ours are Chinese already)
  'No Issues': '没有问题',
  '{errors} Errors, {warnings} Warnings': '{errors} 个错误，{warnings} 个警告',
  'Issues for child elements': '子元素的问题',
  'Toggle linting overlays': '显示/隐藏检查标记',
  'Process is missing start event': '流程缺少开始事件',
  'Sub process is missing start event': '子流程缺少开始事件',
  'Process is missing end event': '流程缺少结束事件',
  'Sub process is missing end event': '子流程缺少结束事件',
  'Element is not connected': '元素没有连线',
  'SequenceFlow is a duplicate': '顺序流重复',
  'Duplicate outgoing sequence flows': '流出的顺序流重复',
  'Duplicate incoming sequence flows': '流入的顺序流重复',
  'Flow splits implicitly': '流程在此隐式分支（请改用网关）',
  'Sequence flow is missing condition': '顺序流缺少条件',
  'Event has multiple event definitions': '事件有多个事件定义',
  'Incoming flows do not join': '流入的顺序流没有汇合（请改用网关）',
  'Gateway is superfluous. It only has one source and target.': '网关多余：只有一个来源和一个去向。',
  'Element is missing label/name': '元素缺少名称',
  'Element overlaps with other element': '元素与其他元素重叠',
  'Element is outside of parent boundary': '元素超出了所在容器的边界',
};

// Words the token simulation writes into the page itself (it has no translate hook): text and titles.
const PAGE_WORDS = {
  'Token Simulation': '流程模拟',
  'Simulation Log': '模拟日志',
  'Play/Pause Simulation': '播放/暂停模拟',
  'Play Simulation': '播放模拟',
  'Pause Simulation': '暂停模拟',
  'Reset Simulation': '重置模拟',
  'Toggle Simulation Log': '显示/隐藏模拟日志',
  'Set Sequence Flow': '选择走向',
  'Trigger Event': '触发事件',
  'Add pause point': '添加暂停点',
  'Remove pause point': '移除暂停点',
  'No Entries': '暂无记录',
  'Process started': '流程开始',
  'Process finished': '流程结束',
  'Process canceled': '流程取消',
  Finished: '已结束',
  'Not supported': '不支持',
  'Found unsupported elements': '发现不支持的元素',
  'User Task': '用户任务',
  'Service Task': '服务任务',
  'Call Activity': '调用活动',
  'Script Task': '脚本任务',
  'Business Rule Task': '业务规则任务',
  'Manual Task': '手工任务',
  'Receive Task': '接收任务',
  'Send Task': '发送任务',
  Task: '任务',
  'Exclusive Gateway': '排他网关',
  'Parallel Gateway': '并行网关',
  'Inclusive Gateway': '包容网关',
  'Start Event': '开始事件',
  'Intermediate Event': '中间事件',
  'Boundary Event': '边界事件',
  'End Event': '结束事件',
  // properties panel and canvas words that bypass `translate`
  Collaboration: '协作',
  Create: '新建',
  'Custom type': '自定义类型',
  '<custom type>': '<自定义类型>',
  Initiator: '发起人变量',
  'Start initiator': '发起人',
  'Refers to the process variable name': '流程变量名',
  'The due date as an EL expression (e.g. ${someDate}) or an ISO date (e.g. 2015-06-26T09:54:00).':
    '办理期限：表达式（如 ${deadline}）或 ISO 日期（如 2026-06-26T09:00:00）。',
  'The follow up date as an EL expression (e.g. ${someDate}) or an ISO date (e.g. 2015-06-26T09:54:00).':
    '跟进日期：表达式（如 ${deadline}）或 ISO 日期（如 2026-06-26T09:00:00）。',
  Close: '关闭',
  'Search in diagram': '在图中搜索',
  'Add text annotation': '添加注释',
  'Open pop-up editor': '在弹出窗口中编辑',
  'Section contains edits': '本节有修改',
  'Toggle list item': '展开/折叠',
  'Toggle section': '展开/折叠',
  'Create new list item': '新建一项',
  'Delete item': '删除此项',
  'Powered by bpmn.io': '由 bpmn.io 提供',
};
const SPEEDS = { Slow: '慢', Normal: '中', Fast: '快' };
const PAGE_PATTERNS = [
  [/^Set animation speed = (.+)$/, (m, speed) => `动画速度：${SPEEDS[speed] || speed}`],
  [/^List contains (\d+) items?$/, '共 $1 项'],
  [/^Focus process instance (.+)$/, '定位流程实例 $1'],
  [/^(.+) (started|finished|canceled)$/, (m, name, verb) => `${name}${{ started: '开始', finished: '结束', canceled: '取消' }[verb]}`],
];

function pageWord(text) {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (PAGE_WORDS[trimmed]) return text.replace(trimmed, PAGE_WORDS[trimmed]);
  for (const [pattern, replacement] of PAGE_PATTERNS) {
    if (pattern.test(trimmed)) return text.replace(trimmed, trimmed.replace(pattern, replacement));
  }
  return null;
}

function translateNode(node) {
  if (node.nodeType === Node.TEXT_NODE) {
    const word = pageWord(node.nodeValue || '');
    if (word !== null) node.nodeValue = word;
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  for (const attr of ['title', 'aria-label']) {
    const value = node.getAttribute(attr);
    const word = value && pageWord(value);
    if (word) node.setAttribute(attr, word);
  }
  node.childNodes.forEach(translateNode);
}

/** Keep the words the modeler's add-ons write into `root` Chinese, now and whenever they write again. */
export function translatePage(root) {
  translateNode(root);
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'characterData' || record.type === 'attributes') translateNode(record.target);
      record.addedNodes.forEach(translateNode);
    }
  }).observe(root, { childList: true, subtree: true, characterData: true, attributes: true,
    attributeFilter: ['title', 'aria-label'] });
}

export default function translate(template, replacements) {
  const text = ZH[template] || template;
  return text.replace(/{([^}]+)}/g, (_, key) => (replacements && key in replacements ? replacements[key] : `{${key}}`));
}

export const TranslateModule = { translate: ['value', translate] };

if (typeof document !== 'undefined' && document.body) translatePage(document.body);
