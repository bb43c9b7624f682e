"""The process runtime: BPMN in, durable instances out. Knows nothing about meetings or Flask."""
