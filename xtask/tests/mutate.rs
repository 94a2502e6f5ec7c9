//! Property test of the generator: mutate the fixture specs (names Rust or
//! cargo reserve, names that collide after case conversion, odd path
//! templates, renamed crates, and random text edits) and check that every run
//! either fails with located errors and leaves every file as it was, or
//! succeeds with a crate that `cargo check` accepts (on a sample).
//!
//! Deterministic: a fixed seed, so a failure reproduces. `MUTATE_SEED`,
//! `MUTATE_COUNT` and `MUTATE_CHECK` (how many accepted crates to
//! `cargo check`, one per kind of edit) override the defaults for a longer
//! local run; `MUTATE_TARGET` the target dir the check builds in. The counts
//! are printed (`cargo test -p xtask --test mutate -- --nocapture`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;
use xtask::regen::{self, Failure, Options, SpecRoot};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// SplitMix64: small, seeded, good enough to pick edits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const KEYWORD_IDS: &[&str] = &[
    "type", "self", "fn", "match", "async", "loop", "crate", "super", "try", "await", "dyn", "gen", "union", "static",
];
const OP_IDS: &[&str] = &[
    "get_v_2",
    "builder",
    "send",
    "new",
    "options",
    "string",
    "option",
    "vec",
    "result",
    "x__y",
    "Self",
    "",
    " a",
    "a b",
    "1x",
    "get-thing",
];
const GROUPS: &[&str] = &[
    "builder", "base_url", "type", "self", "a_1", "a1", "x__y", "super", "crate", "Client", "client", "",
];
const MODEL_NAMES: &[&str] = &[
    "From",
    "Into",
    "Self",
    "Option",
    "Ok",
    "None",
    "Client",
    "ClientBuilder",
    "Error",
    "Result",
    "Response",
    "Default",
    "Send",
    "A",
    "Vec",
    "Box",
    "Some",
    "FooApi",
    "Unknown",
    "SELF",
    "Type",
    "Body",
    "T",
    "Map",
    "Value",
    "Display",
];
const FIELD_NAMES: &[&str] = &[
    "extra",
    "unknown_fields",
    "extra_",
    "self",
    "type",
    "new",
    "send",
    "options",
    "rt_client",
    "rt_options",
    "request",
    "into_stream",
    "as_str",
    "",
    "a b",
    "1x",
    "Self",
    "r#type",
    "query",
    "form",
    "multipart",
    "client",
    "value",
    "page",
];
const ENUM_VALUES: &[&str] = &[
    "self", "Self", "", "1", "unknown", "Unknown", "type", "a-b", "A_B", "-", "é",
];
const PATH_BITS: &[&str] = &[
    " ", "\n", "%", "%zz", "%20", "{}", "{x}", "é", "?", "#", "//", "\t", "{", "}", "\\",
];
const SCHEME_IDS: &[&str] = &[
    "build",
    "timeout",
    "retry",
    "base_url",
    "http_client",
    "rate_limit",
    "type",
    "self",
    "Key",
    "a b",
    "user_agent_suffix",
];
const CRATE_NAMES: &[&str] = &[
    "1abc",
    "xtask",
    "bench",
    "snapsdk-runtime",
    "snapsdk_runtime",
    "test",
    "std",
    "core",
    "self",
    "await",
    "__",
    "a--b",
    "Caps",
    "ok-name",
];
const PROSE: &[&str] = &[
    "```\n{ \"a\": 1 }\n```",
    "```rust\nfn x( {\n",
    "    indented code",
    "Use C #1 first",
    "a\n\n    let x: = 1;",
    "</p> <b>",
    "*[x]_",
    "```json\n{}",
];

/// One mutation applied to a fixture's two files.
struct Mutant {
    kind: &'static str,
    files: BTreeMap<&'static str, String>,
}

fn seq_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Vec<Value>> {
    v.get_mut(key)?.as_sequence_mut()
}

/// Set `key` of a random item of the sequence at `list` (in `doc`), if there is one.
fn set_in(rng: &mut Rng, doc: &mut Value, list: &[&str], key: &str, to: &str) -> bool {
    let mut cur = doc;
    for (i, seg) in list.iter().enumerate() {
        let Some(items) = seq_mut(cur, seg) else { return false };
        if items.is_empty() {
            return false;
        }
        let k = rng.below(items.len());
        cur = &mut items[k];
        if i + 1 == list.len() {
            if let Some(m) = cur.as_mapping_mut() {
                m.insert(Value::from(key), Value::from(to));
                return true;
            }
        }
    }
    false
}

fn mutate(rng: &mut Rng, vendor: &str, api: &str) -> Mutant {
    let mut v: Value = serde_yaml::from_str(vendor).unwrap();
    let mut a: Value = serde_yaml::from_str(api).unwrap();
    let dump = |x: &Value| serde_yaml::to_string(x).unwrap();
    let kinds = [
        "op_keyword",
        "op_id",
        "group",
        "model_rename",
        "field_name",
        "param_name",
        "enum_value",
        "path",
        "scheme_id",
        "crate_name",
        "prose",
        "text_delete",
        "text_duplicate",
        "text_truncate",
        "text_swap",
        "text_comment",
        "text_indent",
    ];
    for _ in 0..8 {
        let kind = *rng.pick(&kinds);
        let (mut vt, mut at) = (vendor.to_owned(), api.to_owned());
        let done = match kind {
            "op_keyword" => {
                let to = rng_pick(rng, KEYWORD_IDS);
                set_in(rng, &mut a, &["operations"], "id", to)
            }
            "op_id" => {
                let to = rng_pick(rng, OP_IDS);
                set_in(rng, &mut a, &["operations"], "id", to)
            }
            "group" => {
                let to = rng_pick(rng, GROUPS);
                set_in(rng, &mut a, &["operations"], "group", to)
            }
            "field_name" => {
                let to = rng_pick(rng, FIELD_NAMES);
                set_in(rng, &mut a, &["models", "fields"], "name", to)
                    || set_in(rng, &mut a, &["operations", "body", "fields"], "name", to)
            }
            "param_name" => {
                let to = rng_pick(rng, FIELD_NAMES);
                set_in(rng, &mut a, &["operations", "params"], "name", to)
            }
            "enum_value" => {
                let to = rng_pick(rng, ENUM_VALUES);
                set_in(rng, &mut a, &["models", "enum"], "value", to)
            }
            "prose" => {
                let to = rng_pick(rng, PROSE);
                if rng.below(2) == 0 {
                    set_in(rng, &mut a, &["operations"], "description", to)
                } else {
                    set_in(rng, &mut a, &["models"], "description", to)
                }
            }
            "path" => {
                let ops = seq_mut(&mut a, "operations").filter(|o| !o.is_empty());
                match ops {
                    Some(ops) => {
                        let k = rng.below(ops.len());
                        let p = ops[k].get("path").and_then(|p| p.as_str()).unwrap_or("/").to_owned();
                        let at_char = rng.below(p.chars().count() + 1);
                        let mut s: String = p.chars().take(at_char).collect();
                        s.push_str(rng_pick(rng, PATH_BITS));
                        s.extend(p.chars().skip(at_char));
                        ops[k]
                            .as_mapping_mut()
                            .map(|m| m.insert("path".into(), s.into()))
                            .is_some()
                    }
                    None => false,
                }
            }
            "scheme_id" => {
                let to = rng_pick(rng, SCHEME_IDS);
                let ok = v
                    .get_mut("vendor")
                    .and_then(|x| x.get_mut("auth"))
                    .map(|auth| set_in(rng, auth, &["schemes"], "id", to))
                    .unwrap_or(false);
                // Keep the default pointing at a scheme half the time, so the id itself is what is tested.
                if ok && rng.below(2) == 0 {
                    if let Some(d) = v
                        .get_mut("vendor")
                        .and_then(|x| x.get_mut("auth"))
                        .and_then(|x| x.as_mapping_mut())
                    {
                        d.insert("default".into(), Value::Sequence(vec![to.into()]));
                    }
                }
                ok
            }
            "crate_name" => {
                let to = rng_pick(rng, CRATE_NAMES);
                v.get_mut("vendor")
                    .and_then(|x| x.get_mut("crate"))
                    .and_then(|c| c.as_mapping_mut())
                    .map(|c| c.insert("name".into(), to.into()))
                    .is_some()
            }
            "model_rename" => {
                // Rename a model and every use of it, as a maintainer would.
                let names: Vec<String> = a
                    .get("models")
                    .and_then(|m| m.as_sequence())
                    .map(|ms| {
                        ms.iter()
                            .filter_map(|m| m.get("name")?.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                if names.is_empty() {
                    false
                } else {
                    let from = names[rng.below(names.len())].clone();
                    let to = rng_pick(rng, MODEL_NAMES);
                    at = replace_word(&dump(&a), &from, to);
                    vt = dump(&v);
                    return Mutant {
                        kind,
                        files: [("vendor.yaml", vt), ("api.yaml", at)].into(),
                    };
                }
            }
            text => {
                let which = rng.below(2);
                let t = if which == 0 { &mut vt } else { &mut at };
                let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
                let n = lines.len();
                let k = rng.below(n);
                match text {
                    "text_delete" => {
                        lines.remove(k);
                    }
                    "text_duplicate" => lines.insert(k, lines[k].clone()),
                    "text_swap" if n > 1 => lines.swap(k, (k + 1) % n),
                    "text_comment" => {
                        let l = &mut lines[k];
                        let cut = rng.below(l.chars().count() + 1);
                        *l = format!(
                            "{} #{}",
                            l.chars().take(cut).collect::<String>(),
                            l.chars().skip(cut).collect::<String>()
                        );
                    }
                    "text_indent" => {
                        lines[k] = if rng.below(2) == 0 {
                            format!("  {}", lines[k])
                        } else {
                            lines[k].trim_start().to_owned()
                        };
                    }
                    "text_truncate" => {
                        let chars: Vec<char> = t.chars().collect();
                        *t = chars[..rng.below(chars.len())].iter().collect();
                        return Mutant {
                            kind,
                            files: [("vendor.yaml", vt), ("api.yaml", at)].into(),
                        };
                    }
                    _ => {}
                }
                *t = lines.join("\n") + "\n";
                return Mutant {
                    kind,
                    files: [("vendor.yaml", vt), ("api.yaml", at)].into(),
                };
            }
        };
        if done {
            return Mutant {
                kind,
                files: [("vendor.yaml", dump(&v)), ("api.yaml", dump(&a))].into(),
            };
        }
    }
    Mutant {
        kind: "none",
        files: [("vendor.yaml", vendor.to_owned()), ("api.yaml", api.to_owned())].into(),
    }
}

fn rng_pick(rng: &mut Rng, items: &[&'static str]) -> &'static str {
    items[rng.below(items.len())]
}

/// Replace `from` where it stands as a whole word.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..i]);
        out.push_str(if word(before) || word(after) { from } else { to });
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let m = std::fs::metadata(&p).and_then(|m| m.modified()).unwrap();
                out.push((p.clone(), std::fs::read(&p).unwrap(), m));
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn opts(dir: &Path) -> Options<'_> {
    Options {
        root: dir,
        spec_roots: vec![SpecRoot {
            specs: "specs".into(),
            crates: "crates".into(),
            check_sources: false,
        }],
        docs: None,
        vendor: None,
        check: false,
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A workspace around the sampled crates, depending on this checkout's runtime
/// with this workspace's dependency versions (its Cargo.lock).
fn check_workspace(dir: &Path) {
    let real = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let runtime = root().join("crates/snapsdk-runtime");
    let mut manifest = String::new();
    for line in real.lines() {
        if line.starts_with("members") {
            // Each generated crate and its test package (`<crate>/tests`).
            manifest.push_str("members = [\"crates/*\", \"crates/*/tests\"]\n");
        } else if line.starts_with("exclude") {
            continue;
        } else if line.starts_with("snapsdk-runtime") {
            // Keep the version requirement the workspace states (regen checks it equals the runtime's).
            let version = line
                .split("version = \"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .expect("snapsdk-runtime's version in [workspace.dependencies]");
            manifest.push_str(&format!(
                "snapsdk-runtime = {{ path = {:?}, version = \"{version}\" }}\n",
                runtime.display().to_string()
            ));
        } else {
            manifest.push_str(line);
            manifest.push('\n');
        }
    }
    std::fs::create_dir_all(dir.join("crates")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

#[test]
fn mutated_specs_fail_located_or_compile() {
    let seed = env_num("MUTATE_SEED", 17);
    let count = env_num("MUTATE_COUNT", 300) as usize;
    let to_check = env_num("MUTATE_CHECK", 12) as usize;
    let mut rng = Rng(seed);
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutate");
    let _ = std::fs::remove_dir_all(&tmp);

    // Baselines: each fixture generated once, copied under every mutant.
    let fixtures_dir = root().join("xtask/tests/fixtures");
    let mut fixtures: Vec<(String, String, String)> = Vec::new();
    for name in xtask::validate::vendor_names(&fixtures_dir).unwrap() {
        let read = |f: &str| std::fs::read_to_string(fixtures_dir.join(&name).join(f)).unwrap();
        let base = tmp.join("base").join(&name);
        std::fs::create_dir_all(base.join("specs").join(&name)).unwrap();
        std::fs::write(base.join("specs").join(&name).join("vendor.yaml"), read("vendor.yaml")).unwrap();
        std::fs::write(base.join("specs").join(&name).join("api.yaml"), read("api.yaml")).unwrap();
        regen::run(&opts(&base)).unwrap_or_else(|e| panic!("fixture {name} must generate: {e:?}"));
        fixtures.push((name.clone(), read("vendor.yaml"), read("api.yaml")));
    }
    assert!(fixtures.len() >= 6);

    let mut violations = Vec::new();
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut rejected, mut accepted) = (0, 0);
    let mut candidates: Vec<(usize, &'static str, PathBuf)> = Vec::new();
    let mut packages = std::collections::BTreeSet::new();
    for i in 0..count {
        let (name, vendor, api) = &fixtures[rng.below(fixtures.len())];
        // A crate name of its own, so accepted mutants can share one check workspace.
        let crate_name = format!("m{i}-{name}");
        let vendor = vendor.replacen(&format!("name: fixture-{name},"), &format!("name: {crate_name},"), 1);
        let m = mutate(&mut rng, &vendor, api);
        let dir = tmp.join(format!("m{i}"));
        copy_dir(&tmp.join("base").join(name), &dir);
        // The baseline crate lives where the original crate name put it.
        for (f, text) in &m.files {
            std::fs::write(dir.join("specs").join(name).join(f), text).unwrap();
        }
        let before = snapshot(&dir.join("crates"));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| regen::run(&opts(&dir))));
        let entry = by_kind.entry(m.kind).or_default();
        match result {
            Err(_) => violations.push(format!("m{i} ({}, {name}): regen panicked", m.kind)),
            Ok(Err(Failure::Spec(diags))) => {
                rejected += 1;
                entry.0 += 1;
                for d in &diags {
                    let file = dir.join(&d.file);
                    let lines = std::fs::read_to_string(&file).map(|t| t.lines().count().max(1));
                    match lines {
                        Ok(n) if d.line >= 1 && d.line <= n && d.col >= 1 && !d.message.is_empty() => {}
                        Ok(n) => violations.push(format!(
                            "m{i} ({}, {name}): not located inside the file ({n} lines): {d}",
                            m.kind
                        )),
                        Err(_) => violations.push(format!("m{i} ({}, {name}): names no spec file: {d}", m.kind)),
                    }
                }
                if snapshot(&dir.join("crates")) != before {
                    violations.push(format!(
                        "m{i} ({}, {name}): a rejected run touched generated files",
                        m.kind
                    ));
                }
                let _ = std::fs::remove_dir_all(&dir);
            }
            Ok(Err(e)) => violations.push(format!("m{i} ({}, {name}): failed without a place: {e:?}", m.kind)),
            Ok(Ok(_)) => {
                accepted += 1;
                entry.1 += 1;
                // Every mutant renames the crate (`fixture-x` → `m<i>-x`): the old folder must go, empty folders and all.
                if dir.join("crates").join(format!("fixture-{name}")).exists() {
                    violations.push(format!(
                        "m{i} ({}, {name}): the renamed crate's old folder is left behind",
                        m.kind
                    ));
                }
                // The crate the mutant generated (its name may be the edit), once per package name.
                let krate = std::fs::read_dir(dir.join("crates"))
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.join("Cargo.toml").is_file());
                let package = krate
                    .as_ref()
                    .and_then(|k| std::fs::read_to_string(k.join("Cargo.toml")).ok())
                    .and_then(|t| t.lines().find_map(|l| l.strip_prefix("name = ").map(str::to_owned)));
                let krate = krate.filter(|_| package.as_ref().is_some_and(|p| packages.insert(p.clone())));
                // Random text edits that pass are mostly no-ops; the targeted kinds are sampled.
                match krate {
                    Some(k) if m.kind != "none" && !m.kind.starts_with("text") && candidates.len() < 400 => {
                        candidates.push((i, m.kind, k))
                    }
                    _ => {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                }
            }
        }
    }
    // One crate per kind of edit first, then more of each in turn.
    let mut sample: Vec<(usize, &'static str, PathBuf)> = Vec::new();
    while sample.len() < to_check && !candidates.is_empty() {
        let mut kinds_this_round = Vec::new();
        candidates.retain(|c| {
            if sample.len() + kinds_this_round.len() < to_check
                && !kinds_this_round
                    .iter()
                    .any(|(_, k, _): &(usize, &str, PathBuf)| *k == c.1)
            {
                kinds_this_round.push(c.clone());
                false
            } else {
                true
            }
        });
        sample.extend(kinds_this_round);
    }

    // One `cargo check` over the sampled crates.
    let mut checked = 0;
    if !sample.is_empty() {
        let ws = tmp.join("check");
        check_workspace(&ws);
        for (i, _, k) in &sample {
            copy_dir(k, &ws.join("crates").join(format!("m{i}")));
        }
        // The workspace's own target dir: the dependencies are checked already
        // (clippy runs first in the test command), so only the sample compiles.
        let target = std::env::var_os("MUTATE_TARGET")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().to_path_buf());
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "check",
                "--workspace",
                "--all-targets",
                "--offline",
                "--keep-going",
                "--message-format",
                "short",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .current_dir(&ws)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).take(30).collect();
            violations.push(format!(
                "accepted specs whose crate cargo rejects (kinds {:?}):\n{}",
                sample.iter().map(|(i, k, _)| format!("m{i}:{k}")).collect::<Vec<_>>(),
                errors.join("\n")
            ));
        } else {
            checked = sample.len();
        }
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, (r, a))| format!("{k} {r}/{a}")).collect();
    println!(
        "mutate: seed {seed}, {count} mutants: {rejected} rejected with located errors and no file touched, {accepted} accepted, {checked} accepted crates passed `cargo check --all-targets` ({}); by kind (rejected/accepted): {}",
        sample.iter().map(|(i, k, _)| format!("m{i}:{k}")).collect::<Vec<_>>().join(", "),
        kinds.join(", ")
    );
    assert!(
        violations.is_empty(),
        "{} violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
    assert!(
        rejected > count / 4 && accepted > count / 10,
        "the edits should both break and keep specs valid"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
