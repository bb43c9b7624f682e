// What the server knows at run time and the rules check against (engine/lint_rules.json leaves it out): registered
// action names, deployed process keys, registered form field types and the execution budgets (max_multi_instance,
// min_timer_seconds; null: the table's defaults). The modeler fills these from the page's
// data; null means "skip the check".
module.exports = { actions: null, processes: null, fieldTypes: null, budgets: null };
