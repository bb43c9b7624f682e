// What the server knows and the rules check against: registered action names, deployed process keys and the
// form field types of engine/forms.py. The modeler fills these from the page's data; null means "skip".
module.exports = { actions: null, processes: null, fieldTypes: null };
