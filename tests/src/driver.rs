//! One launch of the real app through tauri-driver, and the user-level helpers the tests
//! use on it (find by `data-testid`, click, type, keys, polls with deadlines).

use std::ffi::OsString;
use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::proc;

/// How long a user-visible condition may take before a test fails.
pub const WAIT: Duration = Duration::from_secs(20);
/// How long a launch may take to open its window (a loaded 2-core machine takes seconds).
const LAUNCH_WAIT: Duration = Duration::from_secs(90);
/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(50);

/// The app binary under test: `RAPPORT_APP_BIN`, an absolute path to an existing file.
pub fn app_binary() -> Result<PathBuf> {
    let raw = std::env::var_os("RAPPORT_APP_BIN").ok_or_else(|| {
        anyhow!(
            "RAPPORT_APP_BIN is not set: set it to the absolute path of the app built with \
             `make app` (e.g. $CARGO_TARGET_DIR/debug/rapport-desktop), or run `make webdriver`"
        )
    })?;
    let path = PathBuf::from(&raw);
    if !path.is_absolute() {
        bail!(
            "RAPPORT_APP_BIN must be an absolute path, not {}",
            path.display()
        );
    }
    if !path.is_file() {
        bail!(
            "RAPPORT_APP_BIN={} is not a file: build it with `make app`",
            path.display()
        );
    }
    Ok(path)
}

/// The CSS selector of the element with `data-testid="<id>"`.
pub fn by_testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// A temp folder holding the app's data folder and the XDG folders WebKit and Tauri write to.
/// Removed when dropped (unless `RAPPORT_KEEP_TEST_DATA=1`, for post-mortems).
pub struct Workspace {
    tmp: tempfile::TempDir,
    data_dir: PathBuf,
    launches: u32,
    /// More environment for the app (e.g. a PATH with a stand-in for the system browser).
    extra_env: Vec<(&'static str, OsString)>,
}

impl Workspace {
    /// A fresh, empty workspace.
    pub fn new() -> Result<Self> {
        let tmp = tempfile::Builder::new().prefix("rapport-wd-").tempdir()?;
        let data_dir = tmp.path().join("rapport-data");
        Self::with(tmp, data_dir)
    }

    /// A workspace whose app data folder is `data_dir` (kept), e.g. a prepared large cache.
    pub fn with_data_dir(data_dir: &Path) -> Result<Self> {
        let tmp = tempfile::Builder::new()
            .prefix("rapport-bench-")
            .tempdir()?;
        Self::with(
            tmp,
            data_dir
                .canonicalize()
                .with_context(|| format!("{}", data_dir.display()))?,
        )
    }

    fn with(tmp: tempfile::TempDir, data_dir: PathBuf) -> Result<Self> {
        for sub in ["xdg-data", "xdg-cache", "xdg-config", "logs"] {
            fs::create_dir_all(tmp.path().join(sub))?;
        }
        fs::create_dir_all(&data_dir)?;
        let mut ws = Workspace {
            tmp,
            data_dir,
            launches: 0,
            extra_env: Vec::new(),
        };
        if std::env::var("RAPPORT_KEEP_TEST_DATA").as_deref() == Ok("1") {
            ws.tmp.disable_cleanup(true);
            eprintln!("keeping test data in {}", ws.root().display());
        }
        Ok(ws)
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// The app's data folder (`RAPPORT_DATA_DIR`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Sets an environment variable for the next launches (tauri-driver passes its
    /// environment on to the app).
    pub fn set_env(&mut self, key: &'static str, value: impl Into<OsString>) {
        self.extra_env.retain(|(k, _)| *k != key);
        self.extra_env.push((key, value.into()));
    }

    fn env(&self) -> Vec<(&'static str, OsString)> {
        let at = |sub: &str| self.root().join(sub).into_os_string();
        let mut env = vec![
            ("RAPPORT_DATA_DIR", self.data_dir.clone().into_os_string()),
            ("XDG_DATA_HOME", at("xdg-data")),
            ("XDG_CACHE_HOME", at("xdg-cache")),
            ("XDG_CONFIG_HOME", at("xdg-config")),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }
}

/// The WARN and ERROR lines of the app's log files in `data_dir/logs`, oldest first.
fn app_log_warnings(data_dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(data_dir.join("logs")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    files
        .iter()
        .filter_map(|f| fs::read_to_string(f).ok())
        .flat_map(|text| {
            text.lines()
                .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // WebKit's helper processes may outlive the app for a moment and still write to the
        // XDG folders; removing the folder under them fails half-way.
        let left = proc::workspace_pids(&self.data_dir);
        if !proc::wait_gone(&left, Duration::from_secs(10)) {
            eprintln!(
                "processes {left:?} still use {} after 10 s",
                self.root().display()
            );
        }
        // The app's warnings and errors, for the report of a failed test (the harness shows
        // a test's captured output only when it fails).
        let warnings = app_log_warnings(&self.data_dir);
        if !warnings.is_empty() {
            eprintln!("the app logged {} warnings/errors:", warnings.len());
            for line in warnings.iter().rev().take(40).rev() {
                eprintln!("  {line}");
            }
        }
        if std::env::var("RAPPORT_KEEP_TEST_DATA").as_deref() == Ok("1") {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Err(e) = fs::remove_dir_all(self.root()) {
            if e.kind() == std::io::ErrorKind::NotFound {
                break;
            }
            if Instant::now() >= deadline {
                eprintln!("could not remove {}: {e}", self.root().display());
                break;
            }
            std::thread::sleep(POLL);
        }
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("tauri-driver"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    on_path
        .into_iter()
        .chain(cargo_home.map(|c| c.join("bin/tauri-driver")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("tauri-driver"))
}

/// A running tauri-driver; stopped with SIGTERM (it then stops WebKitWebDriver; SIGKILL
/// would orphan WebKitWebDriver, which keeps the port and the log pipe open).
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    fn start(ws: &Workspace, n: u32) -> Result<Self> {
        let port = free_port()?;
        let mut native_port = free_port()?;
        while native_port == port {
            native_port = free_port()?;
        }
        let log = ws.root().join("logs").join(format!("tauri-driver-{n}.log"));
        let out = File::create(&log)?;
        let child = Command::new(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .envs(ws.env())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context(
                "starting tauri-driver (cargo install tauri-driver --locked, or `make deps`)",
            )?;
        let mut driver = Driver { child, port, log };
        let deadline = Instant::now() + WAIT;
        for p in [port, native_port] {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, p));
            while TcpStream::connect_timeout(&addr, POLL).is_err() {
                if let Some(status) = driver.child.try_wait()? {
                    bail!(
                        "tauri-driver exited ({status}) before listening:\n{}",
                        driver.log_tail()
                    );
                }
                if Instant::now() >= deadline {
                    bail!(
                        "tauri-driver did not listen on port {p} within {WAIT:?}:\n{}",
                        driver.log_tail()
                    );
                }
                std::thread::sleep(POLL);
            }
        }
        Ok(driver)
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        if let Err(e) = proc::signal(self.child.id(), "TERM") {
            eprintln!("could not stop tauri-driver: {e:#}");
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(POLL);
        }
        eprintln!(
            "tauri-driver (pid {}) did not stop within 15 s of SIGTERM",
            self.child.id()
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One launch of the app with one WebDriver session.
pub struct App {
    client: Option<Client>,
    driver: Driver,
    app_bin: PathBuf,
    data_dir: PathBuf,
    /// When the session was requested (the launch bench measures from here).
    pub requested_at: Instant,
}

impl App {
    /// Starts tauri-driver with the workspace's environment and the app with `args`
    /// (e.g. `["--demo"]`), and waits until the page has loaded the UI.
    pub async fn launch(ws: &mut Workspace, args: &[&str]) -> Result<App> {
        Self::launch_binary(ws, &app_binary()?, args).await
    }

    /// As [`App::launch`], of another Tauri app (the launch bench's empty app).
    pub async fn launch_binary(ws: &mut Workspace, app_bin: &Path, args: &[&str]) -> Result<App> {
        let app_bin = app_bin.to_path_buf();
        ws.launches += 1;
        let driver = Driver::start(ws, ws.launches)?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            json!({ "application": app_bin.display().to_string(), "args": args }),
        );
        let requested_at = Instant::now();
        // An app that exits before its window opens leaves WebKitWebDriver waiting for it
        // for good: a launch that takes longer than this is a failure, with the app's words.
        let url = format!("http://127.0.0.1:{}", driver.port);
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let connect = builder.connect(&url);
        let client = tokio::time::timeout(LAUNCH_WAIT, connect)
            .await
            .map_err(|_| {
                anyhow!(
                    "no WebDriver session within {LAUNCH_WAIT:?}\n{}",
                    driver.log_tail()
                )
            })?
            .map_err(|e| anyhow!("no WebDriver session: {e}\n{}", driver.log_tail()))?;
        let app = App {
            client: Some(client),
            driver,
            app_bin,
            data_dir: ws.data_dir().to_path_buf(),
            requested_at,
        };
        app.wait_js(
            "the UI to start",
            "return document.querySelector('#app > *') !== null",
        )
        .await?;
        Ok(app)
    }

    pub fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the session is open until quit")
    }

    /// The pids of this launch's app processes (exe = RAPPORT_APP_BIN, this data folder).
    pub fn app_pids(&self) -> Vec<u32> {
        proc::app_pids(&self.app_bin, &self.data_dir)
    }

    /// Closes the session, stops tauri-driver and waits until the app process has exited,
    /// so the next launch on this data folder is a fresh start.
    pub async fn quit(mut self) -> Result<()> {
        let pids = self.app_pids();
        if let Some(client) = self.client.take() {
            client
                .close()
                .await
                .context("closing the WebDriver session")?;
        }
        let closed = Instant::now();
        self.driver.stop();
        if !proc::wait_gone(&pids, Duration::from_secs(5)) {
            // WebKitWebDriver did not end the browser with the session: end it as the
            // window manager would, and insist it then exits.
            eprintln!("the app was still running 5 s after its session closed: sending SIGTERM");
            for pid in &pids {
                proc::signal(*pid, "TERM")?;
            }
            if !proc::wait_gone(&pids, Duration::from_secs(15)) {
                bail!("the app (pids {pids:?}) did not exit within 15 s of SIGTERM");
            }
        }
        let took = closed.elapsed();
        if took > Duration::from_secs(2) {
            eprintln!("the app took {took:?} to exit after its session closed");
        }
        Ok(())
    }

    /// Kills the app process with SIGKILL (no chance to flush anything) and waits until it
    /// is gone; the session is dead afterwards.
    pub fn kill_app(mut self) -> Result<()> {
        let pids = self.app_pids();
        if pids.is_empty() {
            bail!("no app process found for {}", self.data_dir.display());
        }
        for pid in &pids {
            proc::signal(*pid, "KILL")?;
        }
        if !proc::wait_gone(&pids, WAIT) {
            bail!("the app (pids {pids:?}) survived SIGKILL");
        }
        // The session's browser is gone: dropping the client only drops the connection.
        self.client = None;
        self.driver.stop();
        Ok(())
    }

    /// Polls `check` until it yields a value, failing after `timeout` with what was awaited
    /// and the last error.
    pub async fn poll<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl AsyncFnMut(&Client) -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        let mut last_err = None;
        loop {
            match check(self.client()).await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => last_err = Some(e),
            }
            if Instant::now() >= deadline {
                let why = last_err
                    .map(|e| format!(" (last error: {e:#})"))
                    .unwrap_or_default();
                bail!("timed out after {timeout:?} waiting for {what}{why}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client().execute(script, args).await?)
    }

    /// Waits until `script` returns a truthy value; returns that value.
    pub async fn wait_js(&self, what: &str, script: &str) -> Result<Value> {
        self.poll(what, WAIT, async |c| {
            let v = c.execute(script, vec![]).await?;
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            Ok(truthy.then_some(v))
        })
        .await
    }

    /// Waits until an element matching `css` is displayed, and returns it.
    pub async fn find(&self, css: &str) -> Result<Element> {
        self.poll(&format!("{css} to show"), WAIT, async |c| {
            match c.find(Locator::Css(css)).await {
                Ok(el) if el.is_displayed().await? => Ok(Some(el)),
                Ok(_) => Ok(None),
                Err(e) if e.is_no_such_element() => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// The element with `data-testid=id`, once displayed.
    pub async fn testid(&self, id: &str) -> Result<Element> {
        self.find(&by_testid(id)).await
    }

    /// Every element matching `css` now (no wait).
    pub async fn all(&self, css: &str) -> Result<Vec<Element>> {
        Ok(self.client().find_all(Locator::Css(css)).await?)
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) -> Result<()> {
        self.poll(&format!("{css} to go away"), WAIT, async |c| {
            Ok(c.find_all(Locator::Css(css))
                .await?
                .is_empty()
                .then_some(()))
        })
        .await
    }

    /// Clicks the element matching `css` once it is displayed and clickable. When something
    /// covers it (the status bar or a toast over an element at the window's edge, on a
    /// page still growing as its panels load), it is scrolled to the middle of the window,
    /// as a user would, before the next try.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.poll(&format!("{css} to take a click"), WAIT, async |c| {
            let el = match c.find(Locator::Css(css)).await {
                Ok(el) => el,
                Err(e) if e.is_no_such_element() => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            match el.click().await {
                Ok(()) => Ok(Some(())),
                Err(e) if e.is_element_not_interactable() => {
                    c.execute(
                        "document.querySelector(arguments[0])?.scrollIntoView({ block: 'center' });",
                        vec![css.into()],
                    )
                    .await?;
                    Ok(None)
                }
                Err(e) if e.is_stale_element_reference() => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Replaces the text of the field matching `css` with `text` as a user would: select
    /// all, delete, type (WebDriver's Element Clear fires no `input` event in WebKit).
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let el = self.find(css).await?;
        let select_all_delete = format!("{}a{}{}", Key::Control, Key::Null, Key::Backspace);
        el.send_keys(&select_all_delete).await?;
        if !text.is_empty() {
            // WebKitWebDriver drops a typed "\n": a new line is the Enter key.
            el.send_keys(&text.replace('\n', &Key::Enter.to_string()))
                .await?;
        }
        let value = el.prop("value").await?.unwrap_or_default();
        if value != text {
            bail!("{css} holds {value:?} after typing {text:?}");
        }
        Ok(())
    }

    /// Types `keys` into whatever has the focus, as a user would (each char down and up;
    /// WebDriver key codes such as `fantoccini::key::Key::Enter` work too).
    pub async fn press(&self, keys: &str) -> Result<()> {
        let mut actions = KeyActions::new("keyboard".into());
        for ch in keys.chars() {
            actions = actions
                .then(KeyAction::Down { value: ch })
                .then(KeyAction::Up { value: ch });
        }
        self.client().perform_actions(actions).await?;
        Ok(())
    }

    /// The `data-testid` of the focused element (empty when none).
    pub async fn focused_testid(&self) -> Result<String> {
        let v = self
            .js(
                "return document.activeElement?.getAttribute('data-testid') ?? ''",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Resolves after two animation frames, so the last DOM change is painted.
    pub async fn two_frames(&self) -> Result<()> {
        self.client()
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await?;
        Ok(())
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// A PNG of the window's page.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        Ok(self.client().screenshot().await?)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // A test that failed before `quit`: stop the driver, then make sure no app process
        // of this data folder outlives the test (SIGTERM, SIGKILL only if it ignores that).
        let pids = self.app_pids();
        self.client = None;
        self.driver.stop();
        let left: Vec<u32> = pids.into_iter().filter(|p| proc::is_alive(*p)).collect();
        for pid in &left {
            let _ = proc::signal(*pid, "TERM");
        }
        if !proc::wait_gone(&left, Duration::from_secs(5)) {
            for pid in &left {
                let _ = proc::signal(*pid, "KILL");
            }
        }
    }
}
