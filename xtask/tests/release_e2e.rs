//! `cargo xtask release` end to end against a real registry server
//! (cargo-http-registry, pinned in tools/registry/pins.toml: cargo's publish
//! API and a git index over HTTP) on loopback, in scratch clones of this
//! repository's `HEAD` under `<target>/release-e2e/`: the repository itself
//! is never tagged nor modified.
//!
//! `test = false` in xtask/Cargo.toml: `cargo xtask test` runs it as its own
//! step once it has installed the pinned tools; by hand, after one
//! `cargo xtask test`: `cargo test -p xtask --test release_e2e -- --nocapture`.
//!
//! Scenarios, in order, on registry `snaptest`: a dry run (nothing uploaded,
//! nothing tagged); a release of all four crates, runtime first, with the
//! token from the environment; an application outside the workspace that
//! depends on the three clients only through the registry builds and runs
//! against Prism; a second run publishes nothing and says so; a dirty tree is
//! refused; a client whose spec changed and whose version was bumped is
//! released alone with a changelog entry naming the change. On registry
//! `snaptest2`, from a new clone: the server is stopped as soon as the
//! runtime is in its index, the run fails, and the next run (server back)
//! finishes without publishing anything twice; a runtime API break without
//! the bump it needs is refused by cargo-semver-checks; a version that the
//! registry holds with other content is an error naming it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use xtask::release::{self, Options, Outcome};

const CLIENTS: [&str; 3] = ["besnappy", "snapcall", "snapengage"];
const RUNTIME: &str = "snapsdk-runtime";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn run(dir: &Path, prog: &str, args: &[&str]) -> String {
    let o = Command::new(prog).args(args).current_dir(dir).output().unwrap_or_else(|e| panic!("running {prog}: {e}"));
    assert!(o.status.success(), "`{prog} {}` in {} failed:\n{}{}", args.join(" "), dir.display(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim_end().to_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    run(dir, "git", args)
}

fn tags(ws: &Path) -> Vec<String> {
    git(ws, &["tag", "--list", "*-v*"]).lines().map(str::to_owned).collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

/// A cargo-http-registry server on a loopback port, killed on drop.
struct Registry {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Registry {
    fn start(bin: &Path, data: &Path, port: u16) -> Registry {
        let mut r = Registry { bin: bin.to_path_buf(), data: data.to_path_buf(), port, child: None };
        r.restart();
        r
    }

    fn restart(&mut self) {
        let started = Instant::now();
        let log = std::fs::File::create(self.data.with_extension("log")).unwrap();
        let child = Command::new(&self.bin)
            .args(["--addr", &format!("127.0.0.1:{}", self.port)])
            .arg(&self.data)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.bin.display()));
        self.child = Some(child);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(s)) = self.child.as_mut().unwrap().try_wait() {
                panic!("the registry server exited ({s}) before listening: {}", std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default());
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the registry server did not listen on port {} within 30 s", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("e2e: registry server on 127.0.0.1:{} up in {:.2} s", self.port, started.elapsed().as_secs_f64());
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The index lines (one per published version) of a crate, as the server
    /// serves them: committed to its git index.
    fn index(&self, name: &str) -> Vec<String> {
        let rel = match name.len() {
            1 => format!("1/{name}"),
            2 => format!("2/{name}"),
            3 => format!("3/{}/{name}", &name[..1]),
            _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
        };
        let o = Command::new("git").args(["show", &format!("HEAD:{rel}")]).current_dir(&self.data).output().expect("git");
        String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned).collect()
    }

    /// Versions of a crate in the index, once per upload.
    fn versions(&self, name: &str) -> Vec<String> {
        self.index(name).iter().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["vers"].as_str().unwrap().to_owned()).collect()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Env {
    root: PathBuf,
    e2e: PathBuf,
    work: PathBuf,
    docs: Option<PathBuf>,
    semver_checks: PathBuf,
}

impl Env {
    fn options(&self, ws: &Path, registry: &str) -> Options {
        Options {
            root: ws.to_path_buf(),
            registry: Some(registry.into()),
            dry_run: false,
            crates: Vec::new(),
            // The test command's publish dry run verify-builds every crate.
            no_verify: true,
            index_timeout: Duration::from_secs(60),
            work: self.work.clone(),
            docs: self.docs.clone(),
            semver_checks: Some(self.semver_checks.clone()),
        }
    }

    fn clone_repo(&self, name: &str) -> PathBuf {
        let ws = self.e2e.join(name);
        git(&self.e2e, &["clone", "--quiet", &self.root.to_string_lossy(), &ws.to_string_lossy()]);
        git(&ws, &["config", "user.name", "release e2e"]);
        git(&ws, &["config", "user.email", "release-e2e@example.invalid"]);
        ws
    }
}

fn release(opts: &Options, what: &str) -> Result<release::Summary, String> {
    let started = Instant::now();
    eprintln!("\ne2e: ==== {what}");
    let r = release::run(opts);
    match &r {
        Ok(s) => eprintln!("e2e: {what}: ok in {:.1} s\n{}", started.elapsed().as_secs_f64(), s.markdown),
        Err(e) => eprintln!("e2e: {what}: error in {:.1} s: {e}", started.elapsed().as_secs_f64()),
    }
    r
}

fn version_of(ws: &Path, krate: &str) -> String {
    let text = std::fs::read_to_string(ws.join("crates").join(krate).join("Cargo.toml")).unwrap();
    let doc = text.parse::<toml_edit::DocumentMut>().unwrap();
    doc["package"]["version"].as_str().unwrap().to_owned()
}

fn bump_patch(v: &str) -> String {
    let mut v = semver::Version::parse(v).unwrap();
    v.patch += 1;
    v.to_string()
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} does not contain {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn regen(ws: &Path, docs: Option<PathBuf>) {
    let opts = xtask::regen::Options::workspace(ws, docs);
    if let Err(e) = xtask::regen::run(&opts) {
        panic!("regen in {}: {}", ws.display(), match e {
            xtask::regen::Failure::Spec(d) => d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"),
            xtask::regen::Failure::Stale(r) => r.stale_message(),
            xtask::regen::Failure::Other(e) => e,
        });
    }
}

/// Prism from tools/prism on a free port, serving `spec`; killed on drop.
struct Prism(Child, String);

impl Prism {
    fn start(root: &Path, spec: &Path, log: &Path) -> Prism {
        let cli = root.join("tools/prism/node_modules/@stoplight/prism-cli/dist/index.js");
        assert!(cli.is_file(), "Prism is not installed ({}): `cargo xtask test` installs it", cli.display());
        let port = free_port();
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new("node")
            .arg(&cli)
            .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(spec)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("node");
        let base = format!("http://127.0.0.1:{port}");
        let mut p = Prism(child, base.clone());
        let deadline = Instant::now() + Duration::from_secs(60);
        while !std::fs::read_to_string(log).unwrap_or_default().contains(&format!("Prism is listening on {base}")) {
            assert!(p.0.try_wait().unwrap().is_none(), "Prism exited: {}", std::fs::read_to_string(log).unwrap_or_default());
            assert!(Instant::now() < deadline, "Prism did not listen within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn release_against_a_real_registry() {
    let root = root();
    let target = xtask::external::target_dir(&root);
    let (reg_bin, semver_checks) = (xtask::external::release_tool(&target, "cargo-http-registry"), xtask::external::release_tool(&target, "cargo-semver-checks"));
    for b in [&reg_bin, &semver_checks] {
        assert!(b.is_file(), "{} is not installed: `cargo xtask test` installs the tools pinned in tools/registry/pins.toml, then runs this test", b.display());
    }
    // A fresh scratch area; the cargo target dir shared by every step is kept between runs.
    let e2e = target.join("release-e2e");
    let work = e2e.join("work");
    if let Ok(entries) = std::fs::read_dir(&e2e) {
        for e in entries.flatten().filter(|e| e.file_name() != "work") {
            let _ = std::fs::remove_dir_all(e.path()).or_else(|_| std::fs::remove_file(e.path()));
        }
    }
    if let Ok(entries) = std::fs::read_dir(&work) {
        for e in entries.flatten().filter(|e| e.file_name() != "target") {
            let _ = std::fs::remove_dir_all(e.path()).or_else(|_| std::fs::remove_file(e.path()));
        }
    }
    std::fs::create_dir_all(e2e.join(".cargo")).unwrap();
    let (port_a, port_b) = (free_port(), free_port());
    // How a company configures its registry for cargo: a config file (here
    // one above the clones, so every cargo run below reads it) and the token
    // in the environment. cargo-http-registry serves its index over git's
    // HTTP protocol, which cargo reaches through the git CLI.
    std::fs::write(
        e2e.join(".cargo/config.toml"),
        format!("[registries.snaptest]\nindex = \"http://127.0.0.1:{port_a}/git\"\n\n[registries.snaptest2]\nindex = \"http://127.0.0.1:{port_b}/git\"\n\n[net]\ngit-fetch-with-cli = true\n"),
    )
    .unwrap();
    // Set before any thread starts; every cargo the release runs inherits it.
    std::env::set_var("CARGO_REGISTRIES_SNAPTEST_TOKEN", "e2e-token-a");
    std::env::set_var("CARGO_REGISTRIES_SNAPTEST2_TOKEN", "e2e-token-b");
    let docs = [root.join("../shared/vendor-docs"), root.join("shared/vendor-docs")].into_iter().find(|p| p.is_dir());
    let env = Env { root: root.clone(), e2e: e2e.clone(), work, docs: docs.clone(), semver_checks };
    let order = [RUNTIME, CLIENTS[0], CLIENTS[1], CLIENTS[2]];

    let ws = env.clone_repo("ws");
    let head0 = git(&ws, &["rev-parse", "HEAD"]);
    let mut reg = Registry::start(&reg_bin, &e2e.join("registry-a"), port_a);

    // Dry run: everything but the upload, the changelog commit and the tags.
    let mut o = env.options(&ws, "snaptest");
    o.dry_run = true;
    let s = release(&o, "dry run").unwrap();
    assert_eq!(s.crates.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), order);
    assert!(s.crates.iter().all(|c| c.outcome == Outcome::WouldPublish), "{:?}", s.crates);
    assert!(tags(&ws).is_empty() && git(&ws, &["rev-parse", "HEAD"]) == head0 && git(&ws, &["status", "--porcelain"]).is_empty());
    assert!(order.iter().all(|c| reg.index(c).is_empty()), "a dry run uploaded something");

    // The full release, runtime first.
    let started = Instant::now();
    let s = release(&env.options(&ws, "snaptest"), "release of the four crates").unwrap();
    eprintln!("e2e: full release of the four crates: {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(s.published(), order);
    let versions: Vec<String> = order.iter().map(|c| version_of(&ws, c)).collect();
    for (c, v) in order.iter().zip(&versions) {
        assert_eq!(reg.versions(c), std::slice::from_ref(v), "{c} in the index");
        assert!(tags(&ws).contains(&format!("{c}-v{v}")), "{c} tagged: {:?}", tags(&ws));
    }
    // The changelogs were committed on top of the released commit, and the tags point at it.
    assert_eq!(git(&ws, &["rev-parse", "HEAD~1"]), head0);
    assert_eq!(git(&ws, &["rev-parse", &format!("{RUNTIME}-v{}^{{commit}}", versions[0])]), git(&ws, &["rev-parse", "HEAD"]));
    for c in CLIENTS {
        let log = std::fs::read_to_string(ws.join("crates").join(c).join("CHANGELOG.md")).unwrap();
        assert!(log.contains(&format!("## [{}] - ", version_of(&ws, c))) && log.contains("Initial release"), "{c}:\n{log}");
    }
    // Each client requires the runtime from the registry it is in (`registry`
    // null in the index: the same one), its other dependencies from crates.io.
    for c in CLIENTS {
        let line: serde_json::Value = serde_json::from_str(&reg.index(c)[0]).unwrap();
        let deps = line["deps"].as_array().unwrap();
        let runtime = deps.iter().find(|d| d["name"] == RUNTIME).unwrap_or_else(|| panic!("{c} does not depend on the runtime: {line}"));
        assert!(runtime["registry"].is_null(), "{c}'s runtime dependency points elsewhere: {runtime}");
        assert!(deps.iter().filter(|d| d["name"] == "serde").all(|d| d["registry"].as_str().is_some_and(|r| r.contains("crates.io"))), "{line}");
    }

    // An application outside the workspace, through the registry only.
    let app = e2e.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    let dep = |c: &str| format!("{c} = {{ version = \"={}\", registry = \"snaptest\" }}\n", version_of(&ws, c));
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"registry-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{}{}{}tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n[workspace]\n",
            dep("besnappy"),
            dep("snapcall"),
            dep("snapengage")
        ),
    )
    .unwrap();
    // The snapengage quick start as a user would copy it, naming the other two clients too.
    let quick = std::fs::read_to_string(ws.join("crates/snapengage/examples/snapengage_quickstart.rs")).unwrap();
    std::fs::write(app.join("src/main.rs"), format!("{quick}\n#[allow(dead_code)]\nfn the_other_clients() -> (besnappy::ClientBuilder, snapcall::ClientBuilder) {{\n    (besnappy::Client::builder(), snapcall::Client::builder())\n}}\n")).unwrap();
    let started = Instant::now();
    let app_target = env.work.join("target");
    let built = Command::new(std::env::var("CARGO").unwrap_or("cargo".into())).args(["build", "--quiet"]).current_dir(&app).env("CARGO_TARGET_DIR", &app_target).status().unwrap();
    assert!(built.success(), "the application did not build from the registry");
    eprintln!("e2e: application built from the registry in {:.1} s", started.elapsed().as_secs_f64());
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    for c in order {
        let entry = lock.split("[[package]]").find(|p| p.contains(&format!("name = \"{c}\""))).unwrap_or_else(|| panic!("{c} not in the app's lock"));
        assert!(entry.contains(&format!("source = \"registry+http://127.0.0.1:{port_a}/git\"")), "{c} did not come from the registry:\n{entry}");
    }
    {
        let prism = Prism::start(&root, &ws.join("crates/snapengage/openapi.json"), &e2e.join("prism.log"));
        let out = Command::new(app_target.join("debug/registry-app")).arg(&prism.1).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && stdout.contains("check_widget_availability"), "the application against Prism:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
        eprintln!("e2e: the application ran against Prism:\n{}", stdout.lines().take(3).collect::<Vec<_>>().join("\n"));
    }

    // A second run publishes nothing and says so.
    let head1 = git(&ws, &["rev-parse", "HEAD"]);
    let s = release(&env.options(&ws, "snaptest"), "second run").unwrap();
    assert!(s.published().is_empty() && s.crates.iter().all(|c| matches!(c.outcome, Outcome::UpToDate { .. })), "{:?}", s.crates);
    assert!(s.markdown.contains("Nothing to release"), "{}", s.markdown);
    assert_eq!(git(&ws, &["rev-parse", "HEAD"]), head1);
    assert!(order.iter().all(|c| reg.index(c).len() == 1));

    // A dirty tree is refused, naming the fix.
    std::fs::write(ws.join("stray.txt"), "x").unwrap();
    let err = release(&env.options(&ws, "snaptest"), "dirty tree").unwrap_err();
    assert!(err.contains("uncommitted changes") && err.contains("stray.txt") && err.contains("commit or stash"), "{err}");
    std::fs::remove_file(ws.join("stray.txt")).unwrap();

    // A spec change without a version bump is refused; with it, only that client goes out.
    replace_in(&ws.join("specs/snapengage/chat.yaml"), "Check whether chat is currently online for a widget.", "Check whether chat is online for a widget right now.");
    regen(&ws, docs.clone());
    git(&ws, &["commit", "--quiet", "-am", "snapengage: reword an operation summary"]);
    let err = release(&env.options(&ws, "snaptest"), "spec change without a bump").unwrap_err();
    assert!(err.contains("snapengage") && err.contains("crate.version"), "{err}");
    let (old, new) = (version_of(&ws, "snapengage"), bump_patch(&version_of(&ws, "snapengage")));
    replace_in(&ws.join("specs/snapengage/vendor.yaml"), &format!("version: {old}"), &format!("version: {new}"));
    regen(&ws, docs.clone());
    git(&ws, &["commit", "--quiet", "-am", "snapengage: bump for the reworded summary"]);
    let err = release(&env.options(&ws, "snaptest"), "a bump without its Cargo.lock").unwrap_err();
    assert!(err.contains("Cargo.lock does not match") && err.contains("cargo update --workspace"), "{err}");
    run(&ws, "cargo", &["update", "--workspace", "--offline", "--quiet"]);
    git(&ws, &["commit", "--quiet", "-am", "Cargo.lock"]);
    let s = release(&env.options(&ws, "snaptest"), "a bumped client").unwrap();
    assert_eq!(s.published(), ["snapengage"]);
    assert_eq!(reg.versions("snapengage"), [old.clone(), new.clone()]);
    let log = std::fs::read_to_string(ws.join("crates/snapengage/CHANGELOG.md")).unwrap();
    let (at_new, at_old) = (log.find(&format!("## [{new}]")).expect("new entry"), log.find(&format!("## [{old}]")).expect("old entry"));
    let entry = &log[at_new..at_old];
    assert!(at_new < at_old && entry.contains("check_widget_availability") && entry.contains(&format!("snapengage-v{old}")), "{log}");
    assert!(s.markdown.contains("check_widget_availability"), "{}", s.markdown);
    // The published crate carries that changelog.
    let published = run(&e2e, "tar", &["-xzOf", &e2e.join(format!("registry-a/snapengage-{new}.crate")).to_string_lossy(), &format!("snapengage-{new}/CHANGELOG.md")]);
    assert_eq!(published.trim_end(), log.trim_end());
    reg.stop();

    // Registry B: stopped as soon as the runtime is in its index (committed:
    // a server killed between writing and committing has not taken the upload).
    let ws2 = env.clone_repo("ws2");
    let mut reg = Registry::start(&reg_bin, &e2e.join("registry-b"), port_b);
    let opts = env.options(&ws2, "snaptest2");
    let worker = {
        let opts = opts.clone();
        std::thread::spawn(move || release(&opts, "release interrupted by a registry stop"))
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while reg.index(RUNTIME).is_empty() {
        assert!(Instant::now() < deadline && !worker.is_finished(), "the runtime never reached registry B");
        std::thread::sleep(Duration::from_millis(25));
    }
    reg.stop();
    let err = worker.join().unwrap().unwrap_err();
    assert!(err.contains("rerun `cargo xtask release`"), "{err}");
    let first: Vec<&str> = order.iter().copied().filter(|c| !reg.index(c).is_empty()).collect();
    assert!(first.contains(&RUNTIME) && first.len() < 4, "published before the stop: {first:?}");
    reg.restart();
    let s = release(&opts, "resumed release").unwrap();
    for c in order {
        assert_eq!(reg.index(c).len(), 1, "{c} uploaded once in all");
        assert_eq!(first.contains(&c), !s.published().contains(&c), "{c}: published by exactly one of the two runs");
    }
    let runtime = s.crates.iter().find(|c| c.name == RUNTIME).unwrap();
    assert!(matches!(runtime.outcome, Outcome::AlreadyInRegistry | Outcome::UpToDate { .. }), "{runtime:?}");
    let released = git(&ws2, &["rev-parse", "HEAD"]);

    // A runtime API break without the bump it needs: cargo-semver-checks refuses it.
    let rv = version_of(&ws2, RUNTIME);
    let bumped = bump_patch(&rv);
    replace_in(&ws2.join("crates/snapsdk-runtime/src/config.rs"), "pub fn backoff_ceiling(", "pub(crate) fn backoff_ceiling(");
    replace_in(&ws2.join("crates/snapsdk-runtime/Cargo.toml"), &format!("version = \"{rv}\""), &format!("version = \"{bumped}\""));
    replace_in(&ws2.join("Cargo.toml"), &format!("path = \"crates/snapsdk-runtime\", version = \"{rv}\""), &format!("path = \"crates/snapsdk-runtime\", version = \"{bumped}\""));
    run(&ws2, "cargo", &["update", "--workspace", "--offline", "--quiet"]);
    git(&ws2, &["commit", "--quiet", "-am", "runtime: backoff_ceiling no longer public (a break) under a patch bump"]);
    let mut o = opts.clone();
    o.dry_run = true;
    let started = Instant::now();
    let err = release(&o, "runtime break under a patch bump").unwrap_err();
    eprintln!("e2e: cargo-semver-checks run: {:.1} s", started.elapsed().as_secs_f64());
    assert!(err.contains("cargo-semver-checks found") && err.contains("backoff_ceiling") && err.contains(&format!("{RUNTIME}-v{rv}")), "{err}");
    git(&ws2, &["reset", "--quiet", "--hard", &released]);

    // A version the registry holds with other content: an error naming it.
    let v = version_of(&ws2, "snapcall");
    git(&ws2, &["tag", "-d", &format!("snapcall-v{v}")]);
    let spec = std::fs::read_dir(ws2.join("specs/snapcall")).unwrap().flatten().map(|e| e.path()).find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("summary: "))).unwrap();
    replace_in(&spec, "summary: ", "summary: (reworded) ");
    regen(&ws2, docs.clone());
    git(&ws2, &["commit", "--quiet", "-am", "snapcall: reworded, same version"]);
    let err = release(&opts, "same version, other content").unwrap_err();
    assert!(err.contains(&format!("snapcall {v} is already in registry `snaptest2` with other content")), "{err}");
    assert_eq!(reg.index("snapcall").len(), 1);
    assert!(!tags(&ws2).contains(&format!("snapcall-v{v}")));
}
