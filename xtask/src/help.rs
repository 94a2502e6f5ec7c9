//! `cargo xtask <command> --help`: one command's part of the usage text.
//!
//! The usage text (`main.rs`'s `usage()` and the bench command's `USAGE`)
//! stays the single place each command and flag is described; this picks
//! out a command's usage line(s) and its description block, so a command or
//! flag added there is in its `--help` without a second copy.

/// Whether `args` (a command's arguments) ask for help.
pub fn asked(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// The command names the usage text's `usage:` lines list, in order.
pub fn commands(usage: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in usage.lines() {
        if let Some(rest) = line.split("cargo xtask ").nth(1) {
            let name = rest.split_whitespace().next().unwrap_or_default().to_owned();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// `cmd`'s usage line(s) and description block, or `None` for a name the
/// text does not describe. A description block starts at a line beginning
/// with the command's name; lines beginning with `-` (its flags) or with a
/// space (continuations) belong to it.
pub fn section(usage: &str, cmd: &str) -> Option<String> {
    let usage_lines: Vec<String> = usage
        .lines()
        .filter_map(|l| l.split("cargo xtask ").nth(1))
        .filter(|rest| rest.split_whitespace().next() == Some(cmd))
        .map(|rest| format!("usage: cargo xtask {rest}"))
        .collect();
    let mut block = Vec::new();
    let mut inside = false;
    for line in usage.lines().filter(|l| !l.contains("cargo xtask ")) {
        let first = line.split_whitespace().next().unwrap_or_default();
        if line.starts_with(|c: char| c.is_alphanumeric()) {
            inside = first == cmd;
        } else if line.trim().is_empty() {
            inside = false;
        }
        if inside {
            block.push(line);
        }
    }
    if usage_lines.is_empty() || block.is_empty() {
        return None;
    }
    Some(format!("{}\n\n{}", usage_lines.join("\n"), block.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE: &str = "usage: cargo xtask one [--flag]\n\
        \x20      cargo xtask two REV\n\
        \n\
        one       does one thing\n\
        --flag    changes it\n\
        \x20         (continued)\n\
        two       does another\n\
        three     described but without a usage line";

    #[test]
    fn each_command_gets_its_lines_and_block_only() {
        assert_eq!(commands(USAGE), ["one", "two"]);
        assert_eq!(
            section(USAGE, "one").unwrap(),
            "usage: cargo xtask one [--flag]\n\none       does one thing\n--flag    changes it\n          (continued)"
        );
        assert_eq!(
            section(USAGE, "two").unwrap(),
            "usage: cargo xtask two REV\n\ntwo       does another"
        );
        assert_eq!(section(USAGE, "three"), None);
        assert_eq!(section(USAGE, "--flag"), None);
    }

    #[test]
    fn help_is_asked_anywhere_in_the_arguments() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(asked(&v(&["--help"])) && asked(&v(&["--check", "-h"])));
        assert!(!asked(&v(&["origin/main"])) && !asked(&v(&[])));
    }
}
