// Hides the properties-panel groups for Camunda features the engine refuses (engine/loader.py: listeners,
// input/output and call-activity variable mappings, connectors, scripts, field injection, Java delegates'
// options), so designers are not offered what deploy would reject. Runs after the Camunda 7 provider.
const HIDDEN = new Set([
  'CamundaPlatform__TaskListener',
  'CamundaPlatform__ExecutionListener',
  'CamundaPlatform__Input',
  'CamundaPlatform__Output',
  'CamundaPlatform__ConnectorInput',
  'CamundaPlatform__ConnectorOutput',
  'CamundaPlatform__FieldInjection',
  'CamundaPlatform__InMapping',
  'CamundaPlatform__InMappingPropagation',
  'CamundaPlatform__OutMapping',
  'CamundaPlatform__OutMappingPropagation',
  'CamundaPlatform__Script',
  'CamundaPlatform__HistoryCleanup',
  'CamundaPlatform__Tasklist',
  'CamundaPlatform__JobExecution',
  'CamundaPlatform__AsynchronousContinuations',
]);

function SupportedGroupsProvider(propertiesPanel) {
  propertiesPanel.registerProvider(100, this);
}

SupportedGroupsProvider.prototype.getGroups = function () {
  return (groups) => groups.filter((group) => !HIDDEN.has(group.id));
};

SupportedGroupsProvider.$inject = ['propertiesPanel'];

export default {
  __init__: ['jmSupportedGroups'],
  jmSupportedGroups: ['type', SupportedGroupsProvider],
};
