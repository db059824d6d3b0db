"""security.audit and security.access_review (docs/security.md): read-only.

The suite never upgrades or patches anything by itself: it finds, classifies, reports and
prepares. Each decision is a pure function of facts read apart from it:

* versions     outdated packages: installed + available versions -> patch/minor/major
* packages     what is installed here, what the backend's requirement files pin
* index        available versions from a simple package index (PEP 691)
* vulns        pip-audit as a child process, its JSON read (a fatal error is not a pass)
* eol          the shipped end-of-life table (eol.json) and the servers against it
* audit        the security.audit task
* findings     Finding (severity, what, action) and how findings become checks
* access_rules facts -> findings for the access review (pure)
* access_facts the readers: PostgreSQL roles, Redis, Flower, file modes
* access       the security.access_review task
"""
