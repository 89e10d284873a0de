//! `--version` and the examples shown after each command's `--help`.

/// `fleetprune --version` (and `-V`), on one line: version, the git revision it was built from,
/// and the SSH and crypto implementation.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (revision ",
    env!("FLEETPRUNE_GIT_REVISION"),
    "; russh ",
    env!("FLEETPRUNE_RUSSH_VERSION"),
    ", crypto backend ring)"
);

pub const MAIN: &str = "\
Examples:
  fleetprune -i inventory.yaml ping
  fleetprune -i inventory.yaml df --limit builders
  fleetprune -i inventory.yaml prune --system --filter until=168h --yes
  fleetprune completions bash > /etc/bash_completion.d/fleetprune

Exit codes: 0 every host ok, 1 some hosts failed, 2 invalid input (nothing contacted),
3 every host failed, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).";

pub const PRUNE: &str = "\
Examples:
  # What `docker system prune -af --filter until=168h` does, on every builder, unattended:
  fleetprune -i inventory.yaml prune --system -a --filter until=168h --limit builders --yes
  # The inventory's own plans (fleetprune.prune variables), 10 hosts at a time, with a report:
  fleetprune prune --yes --forks 10 --report /var/log/fleetprune/$(date +%F).json
  # Nightly from cron: one line per host on stderr, metrics for node_exporter:
  fleetprune prune --yes --metrics-file /var/lib/node_exporter/fleetprune.prom
  # One of 4 controllers (a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX):
  fleetprune prune --yes --shard auto/4 --output ndjson";

pub const DF: &str = "\
Examples:
  fleetprune -i inventory.yaml df
  fleetprune df --output csv > usage.csv
  fleetprune df --output json | jq '.totals.disk_usage'";

pub const PING: &str = "\
Examples:
  fleetprune -i inventory.yaml ping
  fleetprune ping --limit 'web*:!web03' --output ndjson | jq -c 'select(.status == \"failed\")'";

pub const INVENTORY: &str = "\
Examples:
  fleetprune -i inventory.yaml inventory
  fleetprune inventory --output json | jq '.hosts[].plan.description'";

pub const REPORT: &str = "\
Examples:
  # Merge the shards of last night's run:
  fleetprune report shard-1.json shard-2.json shard-3.json shard-4.json
  # A week of nightly reports, summed per host:
  fleetprune report --since 7d /var/log/fleetprune/";

pub const COMPLETIONS: &str = "\
Examples:
  fleetprune completions bash > /etc/bash_completion.d/fleetprune
  fleetprune completions zsh > \"${fpath[1]}/_fleetprune\"
  fleetprune completions fish > ~/.config/fish/completions/fleetprune.fish";

pub const MAN: &str = "\
Examples:
  fleetprune man > /usr/local/share/man/man1/fleetprune.1
  fleetprune man | man -l -";
