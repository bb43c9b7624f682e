"""The joint-meeting domain: directory, topics, meetings, resolution items, minutes, reports and the named
actions the BPMN service tasks call. Knows nothing about Flask."""
