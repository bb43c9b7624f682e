// What the server knows at run time and the rules check against (engine/lint_rules.json leaves it out): registered
// action names, deployed process keys and registered form field types. The modeler fills these from the page's
// data; null means "skip the check".
module.exports = { actions: null, processes: null, fieldTypes: null };
