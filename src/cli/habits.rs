//! Habits from other tools that clap alone would answer with "unexpected argument": caught before
//! parsing and answered with what to type instead.
//!
//! fleetprune keeps docker's meaning of `-f` (`--force`, the same as `--yes`); Ansible users type
//! `-f 10` for ten forks.

use std::ffi::OsString;

/// A helpful message when `args` (without the program name) show a habit fleetprune reads
/// differently, such as Ansible's `-f 10`.
pub fn habit_error(args: &[OsString]) -> Option<String> {
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.to_str().unwrap_or(""))
        .take_while(|a| *a != "--")
        .collect();
    args.iter().enumerate().find_map(|(index, arg)| {
        let forks = match *arg {
            "-f" => args.get(index + 1).copied()?,
            other => other.strip_prefix("-f").filter(|n| !n.is_empty())?,
        };
        forks.parse::<u64>().ok().map(|_| {
            format!(
                "-f {forks}: use --forks {forks} for {forks} hosts at a time (Ansible's -f); in fleetprune -f is docker's --force (the same as --yes)"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str]) -> Option<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        habit_error(&args)
    }

    #[test]
    fn ansible_forks_are_pointed_to_forks() {
        let message = check(&["ping", "-f", "10"]).unwrap();
        assert!(message.starts_with("-f 10: use --forks 10"), "{message}");
        assert!(check(&["ping", "-f10"]).unwrap().contains("--forks 10"));
    }

    #[test]
    fn force_and_other_uses_of_f_pass() {
        assert_eq!(check(&["prune", "-f", "--images"]), None);
        assert_eq!(check(&["prune", "--images", "-f"]), None);
        assert_eq!(check(&["prune", "-F", "10"]), None);
        assert_eq!(check(&["prune", "-f", "--", "-f", "3"]), None);
    }
}
