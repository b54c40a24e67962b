//! `cairnd demo`: a whole community on this machine, end to end.
//!
//! Creates an issuer, an authority and three entities in a fresh directory,
//! starts each as a real node on 127.0.0.1 (the same start-up path as
//! `cairnd run`), has each join, publish and receive items, withdraws one,
//! and prints what every node and the register hold. Each step waits for
//! its outcome with a deadline and fails loudly when it does not come.

pub mod setup;

use crate::api::Api;
use crate::node::{self, RunningNode};
use anyhow::{bail, Context as _};
use cairn_protocol::control::{
    AudienceRequest, ControlRequest, ControlResponse, PublishRequest, RegisterView,
};
use cairn_protocol::{ItemKind, Tlp};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const STEP_DEADLINE: Duration = Duration::from_secs(20);

/// Named recipients of the demo's audience items (the publisher reads its
/// own too).
const TO_HOSPITAL: &[&str] = &["St. Aurelia University Hospital"];
const TO_HOSPITAL_AND_SUPPLIER: &[&str] = &[
    "St. Aurelia University Hospital",
    "Larkspur Clinical Software Ltd",
];

/// Items each member publishes: (member index, kind, TLP, title, body,
/// named recipients; none for the whole community).
type DemoItem = (
    usize,
    ItemKind,
    Tlp,
    &'static str,
    &'static str,
    &'static [&'static str],
);
const ITEMS: [DemoItem; 6] = [
    (
        1,
        ItemKind::IndicatorOfCompromise,
        Tlp::Amber,
        "C2 beacon from imaging workstations",
        "Outbound TLS to 203.0.113.77:8443 every 300 s from PACS hosts.",
        &[],
    ),
    (
        1,
        ItemKind::NearMiss,
        Tlp::Green,
        "Phishing wave against clinical staff stopped at the gateway",
        "Lure: fake rota update; 412 mails quarantined.",
        &[],
    ),
    (
        2,
        ItemKind::Vulnerability,
        Tlp::AmberStrict,
        "Default credentials on substation RTU web interface",
        "Vendor firmware 4.2 ships admin/admin; patch 4.2.1 available.",
        TO_HOSPITAL_AND_SUPPLIER,
    ),
    (
        2,
        ItemKind::AdversarialTactic,
        Tlp::Red,
        "Reconnaissance of OT jump hosts via VPN password spraying",
        "Low-and-slow spraying from residential proxies, 3 attempts/hour/account.",
        TO_HOSPITAL,
    ),
    (
        3,
        ItemKind::ConfigurationRecommendation,
        Tlp::Clear,
        "Enforce signed updates in the clinical suite",
        "Set UpdatePolicy=SignedOnly; unsigned packages are then refused.",
        &[],
    ),
    (
        3,
        ItemKind::CybersecurityAlert,
        Tlp::Green,
        "Trojanised installer on a mirror of our download site",
        "SHA-256 of the bad installer: see payload; official site unaffected.",
        &[],
    ),
];

async fn call(api: &Api, req: ControlRequest) -> anyhow::Result<ControlResponse> {
    match api.handle(req).await {
        ControlResponse::Error { message } => bail!(message),
        r => Ok(r),
    }
}

async fn wait_for<F, Fut>(what: &str, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + STEP_DEADLINE;
    while Instant::now() < deadline {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "timed out after {}s waiting until {what}",
        STEP_DEADLINE.as_secs()
    )
}

async fn member_count(api: &Api) -> usize {
    match api.handle(ControlRequest::Members).await {
        ControlResponse::Members { members } => members.len(),
        _ => 0,
    }
}

async fn verified_items(api: &Api) -> (usize, usize) {
    match api.handle(ControlRequest::ListItems { limit: 1000 }).await {
        ControlResponse::Items { items } => {
            (items.len(), items.iter().filter(|i| i.verified).count())
        }
        _ => (0, 0),
    }
}

/// The audience items a node holds: short id, marking, whether it reads them.
async fn sealed_items(api: &Api) -> Vec<(String, String, bool)> {
    match api.handle(ControlRequest::ListItems { limit: 1000 }).await {
        ControlResponse::Items { items } => items
            .iter()
            .filter_map(|i| {
                let a = i.audience.as_ref()?;
                Some((i.id.to_string()[..8].to_string(), i.tlp.label(), a.readable))
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn register(api: &Api) -> Vec<RegisterView> {
    match api.handle(ControlRequest::RegisterList).await {
        ControlResponse::Register { entries } => entries,
        _ => Vec::new(),
    }
}

/// Runs the demo. With `keep`, leaves the community running until Ctrl-C.
pub async fn run(keep: bool, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let started = Instant::now();
    let temp;
    let root = match dir {
        Some(d) => {
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
            d
        }
        None => {
            temp = tempfile::Builder::new().prefix("cairn-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    println!("Cairn demo: a NIS2 Art. 29 information-sharing community on this machine");
    println!("  files in {}", root.display());
    let (community, mut files) = setup::create(&root).context("creating the demo community")?;
    println!("  community \"{}\" ({})", community.name, community.id);

    let mut nodes: Vec<RunningNode> = Vec::new();
    let mut addrs: Vec<String> = Vec::new();
    for (i, f) in files.iter_mut().enumerate() {
        f.config.bootstrap = addrs.clone();
        setup::write_config(f)?;
        let settings = f
            .config
            .settings()
            .context("checking the demo configuration")?;
        let node = node::start(settings)
            .await
            .with_context(|| format!("starting {}", setup::ENTITIES[i].name))?;
        let addr = node
            .listen_addrs()
            .await
            .into_iter()
            .next()
            .context("node has no listen address")?;
        println!("  started {:<40} {}", setup::ENTITIES[i].name, addr);
        addrs.push(addr.to_string());
        nodes.push(node);
    }
    let n = nodes.len();
    for (i, node) in nodes.iter().enumerate() {
        let what = format!(
            "{} has admitted the {} others",
            setup::ENTITIES[i].name,
            n - 1
        );
        wait_for(&what, || async { member_count(&node.api).await == n - 1 }).await?;
    }
    println!("\n1. Every node verified every other member's certificate ({n} nodes).");

    for (i, node) in nodes.iter().enumerate().skip(1) {
        call(&node.api, ControlRequest::Join).await?;
        let what = format!("{}'s Joined event has a receipt", setup::ENTITIES[i].name);
        wait_for(&what, || async {
            matches!(node.api.handle(ControlRequest::Participation).await,
                ControlResponse::Participation { events } if events.iter().all(|e| e.register_index.is_some()))
        })
        .await?;
    }
    println!("2. Each entity notified the authority of joining (Art. 29(4)); receipts verified.");

    for (member, kind, tlp, title, body, to) in ITEMS {
        let req = PublishRequest {
            kind,
            tlp,
            title: title.into(),
            body: body.into(),
            payload: None,
            tags: vec!["demo".into()],
            audience: AudienceRequest {
                entities: to.iter().map(|e| e.to_string()).collect(),
                ..Default::default()
            },
        };
        call(&nodes[member].api, ControlRequest::Publish(req)).await?;
    }
    for (i, node) in nodes.iter().enumerate() {
        let what = format!(
            "{} holds all {} items, verified",
            setup::ENTITIES[i].name,
            ITEMS.len()
        );
        wait_for(&what, || async {
            verified_items(&node.api).await == (ITEMS.len(), ITEMS.len())
        })
        .await?;
    }
    println!(
        "3. {} items of {} kinds published, the TLP:RED and TLP:AMBER+STRICT ones sealed to named\n   recipients; every node holds and verified all of them, and opens only its own.",
        ITEMS.len(),
        ITEMS.len()
    );

    call(&nodes[2].api, ControlRequest::Withdraw).await?;
    let authority = &nodes[0].api;
    wait_for("the register shows the withdrawal", || async {
        register(authority).await.len() == n
    })
    .await?;
    println!(
        "4. {} withdrew; the withdrawal is registered.",
        setup::ENTITIES[2].name
    );

    print_summary(&nodes).await;
    println!(
        "\nDemo completed in {:.1}s.",
        started.elapsed().as_secs_f64()
    );
    if keep {
        let cairn = cli_path();
        println!("\nThe community keeps running. Try, for example:");
        for (i, node) in nodes.iter().enumerate() {
            println!(
                "  {cairn} --socket {} status    # {}",
                node.control_socket.display(),
                setup::ENTITIES[i].name
            );
        }
        println!(
            "  {cairn} --socket {} register watch",
            nodes[0].control_socket.display()
        );
        if !std::path::Path::new(&cairn).is_file() && cairn != "cairn" {
            println!("(build the CLI first: cargo build -p cairn-cli)");
        }
        println!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await?;
    }
    for node in nodes {
        node.stop().await;
    }
    Ok(())
}

/// How to call the CLI in the commands the demo prints: the `cairn` built
/// beside this `cairnd` (`target/debug/cairn` after `cargo build`), or
/// plain `cairn` for installed binaries.
fn cli_path() -> String {
    let exe = std::env::current_exe().ok();
    let dir = exe.as_deref().and_then(std::path::Path::parent);
    match dir {
        Some(d) if d.join("cairn").is_file() || d.ends_with("debug") || d.ends_with("release") => {
            d.join("cairn").display().to_string()
        }
        _ => "cairn".to_string(),
    }
}

async fn print_summary(nodes: &[RunningNode]) {
    println!("\nRegister kept by the authority:");
    println!(
        "  {:>3}  {:<21} {:<21} {:<38} {:<20} {:<22} MS",
        "#", "registered", "event", "entity", "type", "sector"
    );
    for e in register(&nodes[0].api).await {
        println!(
            "  {:>3}  {:<21} {:<21} {:<38} {:<20} {:<22} {}",
            e.index,
            e.registered_at.to_rfc3339(),
            e.kind.as_str(),
            e.entity_name,
            e.entity_type.map_or("-", |t| t.as_str()),
            e.sector.map_or("-", |s| s.as_str()),
            e.member_state.map_or("-".to_string(), |m| m.to_string())
        );
    }
    println!("\nItems on each node (all signatures and certificates verified):");
    for (i, node) in nodes.iter().enumerate() {
        let (total, ok) = verified_items(&node.api).await;
        let sealed = sealed_items(&node.api).await;
        let relayed: Vec<String> = sealed
            .iter()
            .filter(|(_, _, readable)| !readable)
            .map(|(id, tlp, _)| format!("{id} ({tlp})"))
            .collect();
        println!(
            "  {:<40} {ok}/{total} verified, reads {}, only relays {}{}",
            setup::ENTITIES[i].name,
            total - relayed.len(),
            relayed.len(),
            if relayed.is_empty() {
                String::new()
            } else {
                format!(": {}", relayed.join(", "))
            }
        );
    }
    if let ControlResponse::Items { items } = nodes[0]
        .api
        .handle(ControlRequest::ListItems { limit: 100 })
        .await
    {
        println!("\nWhat was shared:");
        println!(
            "(as the authority's node sees it: it relays the audience items, it cannot read them)"
        );
        for it in items {
            let title = match &it.audience {
                Some(a) if !a.readable => format!("(sealed to: {})", a.recipients.join(", ")),
                _ => it.title.clone(),
            };
            println!(
                "  {}  {:<17} {:<29} {:<32} {}",
                &it.id.to_string()[..8],
                it.tlp.label(),
                it.kind.as_str(),
                it.publisher_name,
                title
            );
        }
    }
}
