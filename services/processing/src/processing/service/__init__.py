"""Processing's use cases, one module per area; each takes a command and a unit of work.

- :mod:`.cases`: opening a case and the reactions to reception (supplement, withdrawal, calendar);
- :mod:`.actions`: the agencies' actions on a case's current step;
- :mod:`.clock`: the deadline alerts; :mod:`.apology`: Mẫu 04;
- :mod:`.views`: the work queues, a case, its audit trail and Mẫu 06; :mod:`.reports`: performance.
"""
