"""Account quotas App Platform enforces when an app is created or updated.

What DigitalOcean publishes about App Platform limits, and what is emulated:

* Managed Database limit (emulated). A spec whose dev databases (``production`` false and no
  ``cluster_name``: "For dev databases, if cluster_name is not set, a new cluster will be
  provisioned", app_database_spec.yml of digitalocean/openapi@7c1300c) would take the
  account past its Managed Database limit is refused at ``POST``/``PUT /v2/apps`` with a 400
  whose message is, as DigitalOcean sent it (quoted in pulumi/pulumi-digitalocean issue #249,
  2021-08-02, "App platform managed database limit")::

      error validating databases field "databases.limit_exceeded": (3) new databases were
      requested but the account's Managed Database limit only allows for up to (2) new databases

  (godo prints it after "POST https://api.digitalocean.com/v2/apps: 400"). The error id is not
  in that report; like the emulator's other spec validation errors it is ``invalid_argument``
  (the gRPC-gateway's InvalidArgument -> 400). The same report quotes DigitalOcean support: the
  account's managed database limit was 10, the emulator's default (``quotas.databases``).
  Counted against it: every distinct ``cluster_name`` the account's apps use (existing clusters)
  and every dev database of the account's apps (one cluster each); a spec requests as new the
  dev databases its app does not have yet.
* App name uniqueness per account ("Must be unique across all apps in the same account",
  AppSpec.name; 409 ``already_exists``) and the name's pattern and 32-character limit (schema
  validation, 400): already in ``apps.py``/``common.spec_findings``.
* API rate limits (5000/hour, 250/minute, 429): ``faults.RateLimiter``.
* No per-account limit on the number of apps is published: the OpenAPI ``apps_create`` operation
  lists only 200, 401, 429, 500 and the default error; ``max_free_starter_apps`` of the propose
  response (godo AppProposeResponse) is a pricing threshold ("Any additional starter apps will be
  charged for"), not a refusal. So the emulator refuses no app for being one too many.
"""
from emulator.common import ApiError

DEFAULT_DATABASE_LIMIT = 10


def _dev_databases(spec):
    return {db.get("name") for db in (spec or {}).get("databases") or []
            if not db.get("production") and not db.get("cluster_name")}


def _clusters(spec):
    return {db["cluster_name"] for db in (spec or {}).get("databases") or [] if db.get("cluster_name")}


class QuotasMixin:
    """Quota checks of create/update; mixed into ``Store`` (``self.quotas`` holds the limits)."""

    def database_usage(self, account, app_id=None):
        """(clusters in use by the account's apps, dev databases of ``app_id``)."""
        clusters, dev_total, own = set(), 0, set()
        for app in self.apps.values():
            if app["account"] != account["name"]:
                continue
            clusters |= _clusters(app["spec"])
            devs = _dev_databases(app["spec"])
            dev_total += len(devs)
            if app["id"] == app_id:
                own = devs
        return len(clusters) + dev_total, own

    def check_quotas(self, account, spec, app_id=None):
        """Raise the published 400 when ``spec`` needs more new database clusters than the account's
        Managed Database limit leaves."""
        limit = (getattr(self, "quotas", None) or {}).get("databases", DEFAULT_DATABASE_LIMIT)
        if limit is None:
            return
        used, own = self.database_usage(account, app_id)
        # a production database names a cluster that exists already: only dev databases are new
        requested = len(_dev_databases(spec) - own)
        allowed = max(0, limit - used)
        if requested > allowed:
            raise ApiError(400, "invalid_argument",
                           "error validating databases field \"databases.limit_exceeded\": (%d) new databases were "
                           "requested but the account's Managed Database limit only allows for up to (%d) new "
                           "databases" % (requested, allowed))

    def set_quotas(self, quotas):
        """{databases: N} (None: no limit); unknown keys are refused."""
        if not isinstance(quotas, dict) or set(quotas) - {"databases"}:
            raise ValueError("quotas must be a mapping with the key databases (the Managed Database limit)")
        limit = quotas.get("databases")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValueError("quotas.databases must be a whole number >= 0 (or null: no limit)")
        with self.lock:
            self.quotas = {"databases": limit}
