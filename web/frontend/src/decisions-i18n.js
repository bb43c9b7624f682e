// Chinese labels for the decision-table editor: dmn-js's `translate` service with our dictionary (`{name}`
// placeholders are filled as dmn-js does). Words dmn-js writes without asking `translate` stay English.
const ZH = {
  When: '当', And: '且', Then: '则', Annotation: '说明', Annotations: '说明',
  'View DRD': '查看决策需求图', 'Hit policy': '命中策略', 'Hit policy:': '命中策略：',
  Input: '输入', Output: '输出', 'Add input': '添加输入', 'Add output': '添加输出', 'Add rule': '添加规则',
  'Add rule above': '在上方添加规则', 'Add rule below': '在下方添加规则', 'Remove rule': '删除规则',
  'Copy rule': '复制规则', 'Cut rule': '剪切规则', 'Paste rule above': '粘贴到上方', 'Paste rule below': '粘贴到下方',
  'Move rule': '移动规则',
  'Add input column left': '在左侧添加输入列', 'Add input column right': '在右侧添加输入列',
  'Add output column left': '在左侧添加输出列', 'Add output column right': '在右侧添加输出列',
  'Remove input column': '删除输入列', 'Remove output column': '删除输出列',
  'Copy input column': '复制输入列', 'Copy output column': '复制输出列',
  'Cut input column': '剪切输入列', 'Cut output column': '剪切输出列',
  'Paste input column left': '粘贴到左侧', 'Paste input column right': '粘贴到右侧',
  'Paste output column left': '粘贴到左侧', 'Paste output column right': '粘贴到右侧',
  'Add cell description': '添加单元格说明', 'Remove cell description': '删除单元格说明',
  'Input label': '输入标签', 'Input label: ': '输入标签：', 'Input expression': '输入表达式',
  'Input expression: ': '输入表达式：', 'Input type': '输入类型', 'Input values': '输入可选值',
  'Output label': '输出标签', 'Output label: ': '输出标签：', 'Output name': '输出名称', 'Output name: ': '输出名称：',
  'Output type': '输出类型', 'Output values': '输出可选值', Type: '类型', Expression: '表达式',
  'Expression language': '表达式语言', 'Change cell expression language': '更改单元格表达式语言',
  'Enter expression': '输入表达式', 'Decision name': '决策名称', 'Decision name: ': '决策名称：',
  'Edit string': '编辑文字', 'Edit number': '编辑数字', 'Edit boolean': '编辑布尔值', Edit: '编辑',
  'Edit input': '编辑输入', 'Edit output': '编辑输出', 'Strings must be in double quotes': '文字须放在英文双引号中',
  'Match one': '匹配其一', 'Match none': '均不匹配', 'Custom values': '自定义取值', 'Predefined values': '预定义取值',
  'Add predefined values': '添加预定义取值', 'Clear predefined values': '清除预定义取值', 'Add values': '添加取值',
  'No values': '没有取值', Values: '取值', Value: '值', 'Set value': '设置值', 'String value': '文字值',
  'Boolean value': '布尔值', Yes: '是', No: '否', 'Test type': '条件类型', Comparison: '比较', Range: '区间',
  'Comparison operator': '比较运算符', Equals: '等于', Less: '小于', 'Less or equals': '小于等于', Greater: '大于',
  'Greater or equals': '大于等于', 'Start value': '起始值', 'End value': '结束值', Include: '包含', Exclude: '不含',
  'Range start operator': '区间起点', 'Range end operator': '区间终点', 'Range start value': '起点值',
  'Range end value': '终点值', Resize: '调整宽度',
};

function translate(template, replacements = {}) {
  const text = ZH[template] || template;
  return text.replace(/{([^}]+)}/g, (_, key) => (key in replacements ? replacements[key] : `{${key}}`));
}

export const TranslateModule = { translate: ['value', translate] };
