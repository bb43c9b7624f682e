// No process calls itself, directly or through other processes of the same file (the server also follows the
// deployed processes' calls). The path is the server's: breadth first, callees in sorted order.
const { is } = require('bpmnlint-utils');
const { children, rule } = require('../util');

function callActivities(node, out = []) {
  for (const child of children(node)) {
    if (is(child, 'bpmn:CallActivity')) out.push(child);
    callActivities(child, out);
  }
  return out;
}

function callGraph(definitions) {
  const graph = {};
  for (const p of (definitions && definitions.rootElements) || []) {
    if (!is(p, 'bpmn:Process') || p.isExecutable !== true) continue;
    graph[p.id] = [...new Set(callActivities(p).map((c) => c.calledElement).filter(Boolean))].sort();
  }
  return graph;
}

// engine/loader.py call_path: python sorts strings by code point, as does this comparison
function callPath(graph, start, goal) {
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const node = queue.shift();
    if (node === goal) {
      const path = [node];
      while (previous.get(path[path.length - 1]) !== null) path.push(previous.get(path[path.length - 1]));
      return path.reverse();
    }
    const callees = [...new Set(graph[node] || [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const callee of callees) {
      if (!previous.has(callee)) {
        previous.set(callee, node);
        queue.push(callee);
      }
    }
  }
  return null;
}

module.exports = rule('call-cycle', function (node, say) {
  if (!is(node, 'bpmn:CallActivity') || !node.calledElement) return;
  let process = node.$parent;
  while (process && !is(process, 'bpmn:Process')) process = process.$parent;
  if (!process || !process.id) return;
  const path = callPath(callGraph(process.$parent), node.calledElement, process.id);
  if (path) say(node, 'cycle', { called: node.calledElement, path: [process.id, ...path].join(' → ') });
});
