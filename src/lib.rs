//! fleetprune: prune a fleet of Docker hosts over SSH and report reclaimed space in one table.
//!
//! Where things live, in pipeline order:
//! - [`cli`]: command-line flags, turned into validated [`cli::Settings`];
//! - [`input_file`]: local input files read with a size cap, regular files only;
//! - [`inventory`]: Ansible inventories (YAML, INI, directories, vars files, ansible.cfg) ->
//!   hosts with merged variables, `--limit`;
//! - [`openssh`]: how OpenSSH would reach a host, as plain data: its client config, command-line
//!   options, `ssh://` URLs, `%` tokens, patterns, algorithm lists, and the route (direct, jump
//!   hosts, proxy command) they add up to;
//! - [`human_size`]: byte counts as docker writes them (`16.43MB`), for reports and plan notes;
//! - [`filter`], [`plan`]: docker's filter grammar and what to prune per host (pure data);
//! - [`host`]: a host's connection settings and effective plan (inventory + command line);
//! - [`transport`]: SSH session (known_hosts, auth) and the tunnel to the Docker socket;
//! - [`engine`]: HTTP to the Engine API over that tunnel, version negotiation;
//! - [`model`]: the plain-data floor (failure stage and class, host key, transport kind,
//!   filesystem usage, bounded remote text) every other module may import;
//! - [`snapshot`]: a read-only picture of a host's objects, from which [`plan::select`] predicts
//!   a prune exactly;
//! - [`commands`]: one module per fleet command (prune, plan, apply, rmi, df, ping), each its
//!   host job;
//! - [`busy`]: a host's busy guard asked on the host, before the first deletion and each kind;
//! - [`key_scan`]: `ping --print-host-keys`, ssh-keyscan's lines for review and pinning;
//! - [`executor`]: the fleet, with bounded concurrency, timeouts and cancellation; it emits
//!   events and knows no screen;
//! - [`fd_limit`]: the open-files limit raised for thousands of connections;
//! - [`malloc_arenas`]: glibc's allocator held to two arenas, so memory stays flat;
//! - [`use_log`]: when fleetprune last saw each image in use and first saw it (for
//!   `unused_for`, `min_age`);
//! - [`shard`]: `--shard I/N`, a stable slice of the selected hosts;
//! - [`progress`]: the live display on stderr while hosts run;
//! - [`outcome`]: per-host results and each command's payload, as plain data;
//! - [`report`]: table / Markdown / JSON / NDJSON / CSV / Prometheus rendering, one module per
//!   format, each built host by host as hosts finish; and saved reports read back;
//! - [`output`]: where a run's results go (stdout, `--report`, `--metrics-file`), each host's
//!   outcome handed to every output as it finishes;
//! - [`offline`]: `report`, `completions`, `man`, which contact no host;
//! - [`prompt`]: docker's confirmation prompt before anything is deleted;
//! - [`api_version`]: Engine API versions as negotiated;
//! - [`app`]: ties it together for `main` and decides the exit code.

pub mod api_version;
pub mod app;
pub mod busy;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod executor;
pub mod fd_limit;
pub mod filter;
pub mod host;
pub mod human_size;
pub mod input_file;
pub mod inventory;
pub mod key_scan;
pub mod malloc_arenas;
pub mod model;
pub mod offline;
pub mod openssh;
pub mod outcome;
pub mod output;
pub mod plan;
pub mod progress;
pub mod prompt;
pub mod report;
pub mod shard;
pub mod snapshot;
pub mod transport;
pub mod use_log;
