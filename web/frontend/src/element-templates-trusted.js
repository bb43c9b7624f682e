// Stands in for @bpmn-io/element-templates-validator in the modeler bundle (build.mjs alias). The element
// templates the modeler loads are the server's own, generated from the registered actions and checked there
// (the loader refuses any topic it does not know); the validator's JSON-schema code is 617 KB of the 2.7 MB
// bundle, for templates that are valid by construction. Same exports, every template accepted as it is.
const CAMUNDA = { package: '@camunda/element-templates-json-schema', version: '0.22.1' };
const ZEEBE = { package: '@camunda/zeebe-element-templates-json-schema', version: '0.46.0' };
const ZEEBE_CONFIGURATION = { package: '@camunda/zeebe-configuration-templates-json-schema', version: '0.2.0' };

const accept = (object) => ({ valid: true, object, errors: [], warnings: [] });
const acceptAll = (objects) => ({ valid: true, results: (objects || []).map(accept), errors: [], warnings: [] });

export const getSchemaPackage = () => CAMUNDA.package;
export const getSchemaVersion = () => CAMUNDA.version;
export const getZeebeSchemaPackage = () => ZEEBE.package;
export const getZeebeSchemaVersion = () => ZEEBE.version;
export const getZeebeConfigurationSchemaPackage = () => ZEEBE_CONFIGURATION.package;
export const getZeebeConfigurationSchemaVersion = () => ZEEBE_CONFIGURATION.version;
export const validate = accept;
export const validateZeebe = accept;
export const validateZeebeConfiguration = accept;
export const validateAll = acceptAll;
export const validateAllZeebe = acceptAll;
export const validateAllZeebeConfiguration = acceptAll;
