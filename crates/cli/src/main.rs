//! `sportello`: serve the portal, migrate the database, manage communes.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sportello_domain::{CommuneStatus, Host, IstatCode};
use sportello_kernel::Settings;
use sportello_store::Store;
use sportello_web::logs;

mod registry;

#[derive(Parser)]
#[command(
    name = "sportello",
    version,
    about = "One digital front office for a federation of Italian communes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal (commune sites, federation portal, API).
    Serve {
        /// Address to listen on (port 0: any free port, printed on start).
        #[arg(long, env = "SPORTELLO_BIND")]
        bind: Option<String>,
        /// Migrate the database and sync the demo federation from `tenants/` first, and offer
        /// the demonstration identity provider (fictitious people, SPID levels 1-3).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage communes.
    #[command(subcommand)]
    Tenants(Tenants),
    /// Manage a commune's staff accounts.
    #[command(subcommand)]
    Staff(Staff),
    /// Manage a commune's own identity providers.
    #[command(subcommand)]
    Idp(Idp),
    /// Registry certificates.
    #[command(subcommand)]
    Certificates(Certificates),
}

#[derive(Subcommand)]
enum Certificates {
    /// Check a certificate offline: its PDF, or its digital stamp's text (or the address read
    /// from its code), against the communes' published keys. Exits non-zero when not verified.
    Verify {
        /// A PDF file, a file holding the stamp's text, or the text itself.
        what: String,
        /// A commune's published keys (`https://<commune>/.well-known/timbro-digitale.json`),
        /// once per commune.
        #[arg(long = "keys", required = true)]
        keys: Vec<PathBuf>,
        /// Judge validity on this day (YYYY-MM-DD) instead of today.
        #[arg(long)]
        on: Option<String>,
    },
}

#[derive(Subcommand)]
enum Idp {
    /// Add or replace a commune's OpenID Connect provider. The client secret is read from
    /// SPORTELLO_IDP_CLIENT_SECRET (never from the command line) and stored encrypted.
    AddOidc {
        /// The commune's ISTAT code.
        istat_code: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
    },
}

#[derive(Subcommand)]
enum Staff {
    /// Create a staff account and print its invitation link (password + TOTP on first use).
    Invite {
        /// The commune's ISTAT code.
        istat_code: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, office_head, clerk, front_desk, call_centre.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The holder's fiscal code: SPID/CIE at level 2+ then opens the console too.
        #[arg(long)]
        fiscal_code: Option<String>,
    },
    /// Create a federation staff account (the federation console on the apex host: onboarding,
    /// suspension, support) and print its invitation link.
    InviteFederation {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum Tenants {
    /// Create or update the communes described in `tenants/*.toml` (idempotent).
    Sync {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Onboard every commune of an ISTAT CSV (idempotent), with the starter charter.
    ImportIstat { csv: PathBuf },
    /// One commune a line: ISTAT code, status, primary host, name.
    List,
    /// Stop serving a commune's portal (503) until resumed.
    Suspend { istat_code: String },
    /// Serve a suspended commune's portal again.
    Resume { istat_code: String },
}

fn init_logs(settings: &Settings) {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SPORTELLO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let out = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let out = if settings.log_format == "json" {
        out.json().boxed()
    } else {
        out.boxed()
    };
    // The level filter for everything, then: a client's unparsable request is not our error
    // (see sportello_web::logs).
    tracing_subscriber::registry()
        .with(filter)
        .with(logs::ClientMistakes)
        .with(out)
        .init();
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(&settings);
    match run(cli, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(settings: &Settings) -> Result<Store> {
    Store::connect(settings.database_url.expose())
        .await
        .context("connecting to the database")
}

fn apex(settings: &Settings) -> Result<Host> {
    Host::parse(&settings.apex_host).context("apex_host")
}

/// In the demo, one administrator for Pisa's console and one federation account, invited on the
/// first run (the links are printed; the password and the authenticator are set on first use).
async fn demo_consoles(store: &Store, settings: &Settings, port: u16) {
    use sportello_identity::staff::invite;
    use sportello_store::staff::Realm;
    let apex = &settings.apex_host;
    let accounts = [
        (
            Realm::Commune(sportello_domain::TenantId(50026)),
            "demo.admin@comune.pisa.it",
            "Amministratore demo",
            "admin",
            format!("pisa.{apex}"),
            "Pisa's console",
        ),
        (
            Realm::Federation,
            "demo@federazione.example",
            "Federazione demo",
            "federation",
            apex.clone(),
            "the federation console",
        ),
    ];
    for (realm, email, name, role, host, what) in accounts {
        match invite(store, realm, email, name, role).await {
            Ok((_, token)) => println!(
                "{what}: open http://{host}:{port}/console/invito?token={token} (as {email})"
            ),
            Err(e) if e.to_string().contains("already has an account") => {
                println!(
                    "{what}: http://{host}:{port}/console (as {email}, invited on a first run)"
                )
            }
            Err(e) => println!("{what}: no demo account ({e})"),
        }
    }
}

async fn run(cli: Cli, mut settings: Settings) -> Result<()> {
    match cli.command {
        Command::Serve { bind, demo } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            settings.demo = demo;
            let store = connect(&settings).await?;
            let embedded = settings.database_url.expose().starts_with("sqlite");
            // The embedded database migrates itself; the demo migrates only what is pending, so
            // that it also runs as PostgreSQL's application role once the owner has migrated.
            if embedded || (demo && store.pending_migrations().await.context("migrations")? > 0) {
                store.migrate().await.context(
                    "migrating (on PostgreSQL, run `sportello migrate` as the schema owner \
                     first, then serve as the application role)",
                )?;
            }
            if demo {
                sync(&store, &settings, None).await?;
                registry::demo_residents(&store).await?;
            }
            let listener = TcpListener::bind(&settings.bind)
                .with_context(|| format!("binding {}", settings.bind))?;
            let store_for_demo = store.clone();
            let running = sportello_web::start(&settings, store, listener)
                .await
                .map_err(anyhow::Error::msg)?;
            let port = running.addr.port();
            println!("sportello listening on http://{}", running.addr);
            println!(
                "federation portal: http://{}:{port}/   a commune: http://pisa.{}:{port}/",
                settings.apex_host, settings.apex_host
            );
            if demo {
                demo_consoles(&store_for_demo, &settings, port).await;
            }
            running.server.await.context("server")?;
        }
        Command::Migrate => {
            connect(&settings)
                .await?
                .migrate()
                .await
                .context("migrating")?;
            println!("migrations applied");
        }
        Command::Tenants(t) => tenants(t, &settings).await?,
        Command::Certificates(Certificates::Verify { what, keys, on }) => {
            registry::verify(&what, &keys, on.as_deref())?
        }
        Command::Idp(Idp::AddOidc {
            istat_code,
            id,
            name,
            issuer,
            client_id,
        }) => {
            let store = connect(&settings).await?;
            let code = IstatCode::parse(&istat_code)?;
            let tenant = sportello_domain::TenantId(code.as_str().parse()?);
            let secret = std::env::var("SPORTELLO_IDP_CLIENT_SECRET")
                .context("set SPORTELLO_IDP_CLIENT_SECRET to the client secret")?;
            let key = settings.secret_key().map_err(anyhow::Error::msg)?;
            let boxed = sportello_kernel::secretbox::SecretBox::from_base64(key)
                .map_err(anyhow::Error::msg)?;
            sportello_identity::idp::put_commune_oidc(
                &store,
                &boxed,
                tenant,
                sportello_identity::idp::NewCommuneOidc {
                    id: &id,
                    name: &name,
                    issuer: &issuer,
                    client_id: &client_id,
                    client_secret: &secret,
                },
            )
            .await
            .map_err(anyhow::Error::msg)?;
            println!("{code}: identity provider {id} saved");
        }
        Command::Staff(cmd) => {
            let store = connect(&settings).await?;
            staff(&settings, &store, cmd).await?
        }
    }
    Ok(())
}

async fn sync(store: &Store, settings: &Settings, dir: Option<PathBuf>) -> Result<()> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(&settings.tenants_dir));
    let report = store
        .federation()
        .sync_tenants_dir(&dir, &apex(settings)?)
        .await?;
    for (file, o) in &report.files {
        let what = if o.created {
            "created".to_owned()
        } else if o.registry_changed || !o.charter.is_empty() {
            "updated".to_owned()
        } else {
            "unchanged".to_owned()
        };
        println!(
            "{file}: {what} (charter: {} inserted, {} updated, {} deleted)",
            o.charter.inserted, o.charter.updated, o.charter.deleted
        );
    }
    Ok(())
}

async fn tenants(t: Tenants, settings: &Settings) -> Result<()> {
    let store = connect(settings).await?;
    match t {
        Tenants::Sync { dir } => sync(&store, settings, dir).await?,
        Tenants::ImportIstat { csv } => {
            let text = std::fs::read_to_string(&csv)
                .with_context(|| format!("reading {}", csv.display()))?;
            let rows = sportello_store::istat::parse_csv(&text)
                .map_err(|e| anyhow::anyhow!("{}: nothing imported:\n{e}", csv.display()))?;
            let bar = indicatif::ProgressBar::new(rows.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} communes {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            let report = store
                .federation()
                .import_istat(&rows, &apex(settings)?, |n| bar.set_position(n as u64))
                .await
                .map_err(|e| anyhow::anyhow!("{}: nothing imported:\n{e}", csv.display()))?;
            bar.finish_and_clear();
            println!(
                "{} communes: {} created, {} updated, {} skipped in {:.1} s",
                rows.len(),
                report.created,
                report.updated,
                report.skipped,
                started.elapsed().as_secs_f64()
            );
        }
        Tenants::List => {
            for c in store.federation().load_registry().await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    c.istat_code,
                    c.status.key(),
                    c.primary_host,
                    c.name
                );
            }
        }
        Tenants::Suspend { istat_code } => {
            set_status(&store, &istat_code, CommuneStatus::Suspended).await?
        }
        Tenants::Resume { istat_code } => {
            set_status(&store, &istat_code, CommuneStatus::Active).await?
        }
    }
    Ok(())
}

async fn staff(settings: &Settings, store: &Store, cmd: Staff) -> Result<()> {
    match cmd {
        Staff::InviteFederation { email, name } => {
            let (_, token) = sportello_identity::staff::invite(
                store,
                sportello_store::staff::Realm::Federation,
                &email,
                &name,
                "federation",
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let port = settings
                .bind
                .rsplit_once(':')
                .map(|(_, p)| p)
                .filter(|p| *p != "80" && *p != "443")
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            println!(
                "{}://{}{port}/console/invito?token={token}",
                settings.public_scheme, settings.apex_host
            );
        }
        Staff::Invite {
            istat_code,
            email,
            name,
            role,
            fiscal_code,
        } => {
            let code = IstatCode::parse(&istat_code)?;
            let id = sportello_domain::TenantId(code.as_str().parse()?);
            let commune = store
                .federation()
                .load_registry()
                .await?
                .into_iter()
                .find(|c| c.id == id)
                .ok_or_else(|| anyhow::anyhow!("no commune with ISTAT code {code}"))?;
            let (staff_id, token) = sportello_identity::staff::invite(
                store,
                sportello_store::staff::Realm::Commune(id),
                &email,
                &name,
                &role,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(cf) = fiscal_code {
                sportello_identity::staff::link_fiscal_code(
                    store,
                    sportello_store::staff::Realm::Commune(id),
                    &staff_id,
                    &cf,
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            let port = settings
                .bind
                .rsplit_once(':')
                .map(|(_, p)| p)
                .filter(|p| *p != "80" && *p != "443")
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            println!(
                "{}://{}{port}/console/invito?token={token}",
                settings.public_scheme, commune.primary_host
            );
        }
    }
    Ok(())
}

async fn set_status(store: &Store, code: &str, status: CommuneStatus) -> Result<()> {
    let code = IstatCode::parse(code)?;
    let id = sportello_domain::TenantId(code.as_str().parse()?);
    if !store.federation().set_status(id, status).await? {
        bail!("no commune with ISTAT code {code}");
    }
    println!("{code}: {}", status.key());
    Ok(())
}
