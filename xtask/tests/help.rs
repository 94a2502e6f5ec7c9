//! Every `cargo xtask` command answers `--help` and `-h` with its own usage,
//! exit status 0, and runs nothing (`diff --help` is not a git revision,
//! `test --help` starts no cargo step, `regen --help` writes nothing).

use std::process::Command;

fn xtask(args: &[&str]) -> (i32, String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The commands the top-level help lists, from its `usage:` lines.
fn commands() -> Vec<String> {
    let (code, out, _) = xtask(&["--help"]);
    assert_eq!(code, 0);
    xtask::help::commands(&out)
}

#[test]
fn every_command_answers_help_with_its_own_usage() {
    let commands = commands();
    for expected in ["regen", "diff", "sources", "test", "bench"] {
        assert!(
            commands.iter().any(|c| c == expected),
            "`cargo xtask --help` does not list {expected}: {commands:?}"
        );
    }
    for cmd in &commands {
        for flag in ["--help", "-h"] {
            let started = std::time::Instant::now();
            let (code, out, err) = xtask(&[cmd, flag]);
            assert_eq!(
                code, 0,
                "`cargo xtask {cmd} {flag}` exited {code}\nstdout: {out}\nstderr: {err}"
            );
            assert!(
                out.starts_with(&format!("usage: cargo xtask {cmd}")),
                "`cargo xtask {cmd} {flag}` printed:\n{out}"
            );
            // Its description block, and no other command's usage.
            assert!(
                out.lines().any(|l| l.starts_with(&format!("{cmd} "))),
                "`cargo xtask {cmd} {flag}` has no description:\n{out}"
            );
            for other in commands.iter().filter(|o| *o != cmd) {
                assert!(
                    !out.contains(&format!("cargo xtask {other}"))
                        && !out.lines().any(|l| l.starts_with(&format!("{other} "))),
                    "`cargo xtask {cmd} {flag}` also describes {other}:\n{out}"
                );
            }
            assert!(
                err.is_empty(),
                "`cargo xtask {cmd} {flag}` wrote to stderr (did it run?): {err}"
            );
            assert!(
                started.elapsed().as_secs() < 20,
                "`cargo xtask {cmd} {flag}` took {:?}: did it run the command?",
                started.elapsed()
            );
        }
    }
    // Flags are described with their command.
    let (_, regen, _) = xtask(&["regen", "--help"]);
    assert!(regen.contains("--check") && regen.contains("--vendor"), "{regen}");
    let (_, bench, _) = xtask(&["bench", "--help"]);
    assert!(bench.contains("--only"), "{bench}");
    let (_, diff, _) = xtask(&["diff", "--help"]);
    assert!(!diff.contains("is not a git revision"), "{diff}");
}

#[test]
fn help_anywhere_in_the_arguments_and_unknown_commands_still_refused() {
    let (code, out, _) = xtask(&["regen", "--check", "--help"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("usage: cargo xtask regen"), "{out}");
    let (code, _, err) = xtask(&["nonsense", "--help"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown command `nonsense`"), "{err}");
}
