use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use guardkey::cli::{Cli, Command, SimArgs};
use guardkey::sim::{
    Faults, RunningSim, SIM_ACCESS_KEY_ID, SIM_SECRET_ACCESS_KEY, Seed, SimConfig, Simulator,
};

/// mimalloc rather than the system's: a scan of many accounts runs hundreds of SDK clients
/// on every core, and glibc's allocator spent a quarter of that CPU on its own bookkeeping
/// (`cargo bench --bench scan -- organization`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if let Err(e) = color_eyre::install() {
        eprintln!("guardkey: {e}");
    }
    let cli = Cli::parse();
    init_logs();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("guardkey: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("guardkey: {e:?}");
            ExitCode::from(2)
        }
    }
}

async fn run(mut cli: Cli) -> Result<ExitCode> {
    // Flags that mean nothing for a command are refused rather than ignored (those the user
    // gave: defaults from the configuration file are applied after).
    let refused: &[(bool, &str)] = match &cli.command {
        Some(Command::Sim(_)) => &[
            (cli.global.demo, "--demo"),
            (cli.global.read_only, "--read-only"),
            (cli.global.load.is_some(), "--load"),
            (cli.global.endpoint_url.is_some(), "--endpoint-url"),
            (!cli.global.regions.is_empty(), "--regions"),
        ],
        Some(_) if cli.global.baseline.is_some() => &[(true, "--baseline")],
        Some(Command::Restore(_)) if guardkey::commands::accounts::many(&cli.global) => {
            &[(true, "--org, --profiles or --role-arns")]
        }
        _ => &[(
            cli.global.demo && cli.global.endpoint_url.is_some(),
            "--endpoint-url with --demo",
        )],
    };
    if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
        let what = match &cli.command {
            Some(Command::Sim(_)) => {
                "guardkey sim serves the simulator; it takes its own options (see guardkey sim --help)"
            }
            Some(Command::Restore(_)) if guardkey::commands::accounts::many(&cli.global) => {
                "restore reaches each journal's account as the fix did (the journal says how): \
                 name the journals, e.g. guardkey restore FIX1.jsonl FIX2.jsonl"
            }
            Some(_) if cli.global.baseline.is_some() => {
                "it marks changes in the explorer (guardkey --baseline OLD.json); headless, \
                 guardkey diff OLD.json NEW.json says what changed"
            }
            _ => "--demo runs the embedded simulator; --endpoint-url points elsewhere",
        };
        eprintln!("guardkey: {flag} cannot be used here: {what}");
        return Ok(ExitCode::from(2));
    }
    let config = match guardkey::config::Config::load(cli.global.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("guardkey: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    config.apply_global(&mut cli.global);
    if let Some(Command::Fix(args)) = &mut cli.command {
        config.apply_fix(args);
        match guardkey::commands::scan::load_exceptions(&cli.global) {
            Ok(e) => args.exceptions = e,
            Err(e) => {
                eprintln!("guardkey: {e}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    match cli.command {
        Some(Command::Policy(args)) => {
            // The document alone on standard output, for $(guardkey policy scan).
            let doc = guardkey::permissions::policy(&args.name).expect("clap checked the name");
            print!("{doc}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Diff(args)) => exit(guardkey::commands::diff::run(&args)),
        Some(Command::Completions(args)) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "guardkey", &mut script);
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = std::io::stdout().write_all(&script);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            let mut page = Vec::new();
            if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
                eprintln!("guardkey: cannot render the man page: {e}");
                return Ok(ExitCode::from(2));
            }
            let _ = std::io::stdout().write_all(&page);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Sim(args)) => run_sim(args).await,
        None => match guardkey::commands::explore::run(&cli.global).await {
            Ok(code) => Ok(ExitCode::from(code)),
            Err(e) => {
                eprintln!("guardkey: {e}");
                Ok(ExitCode::from(2))
            }
        },
        Some(Command::Scan(args)) => match guardkey::commands::scan::run(&cli.global, &args).await {
            Ok(code) => Ok(ExitCode::from(code)),
            Err(e) => {
                eprintln!("guardkey: {e}");
                Ok(ExitCode::from(guardkey::commands::scan::EXIT_ERROR))
            }
        },
        Some(Command::Fix(args)) => exit(guardkey::commands::fix::run(&cli.global, &args).await),
        Some(Command::Restore(args)) => exit(guardkey::commands::restore::run(&cli.global, &args).await),
    }
}

/// With `GUARDKEY_LOG` set (`info`, `debug`, `guardkey=debug`…), logs go to
/// `guardkey.log` in the state directory: the explorer owns the terminal. No credential is
/// ever logged.
fn init_logs() {
    let Ok(filter) = std::env::var("GUARDKEY_LOG") else {
        return;
    };
    let dir = guardkey::fix::journal::default_dir();
    let file = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("guardkey.log"))
    });
    match (file, tracing_subscriber::EnvFilter::try_new(&filter)) {
        (Ok(file), Ok(filter)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        (Err(e), _) => eprintln!("guardkey: cannot open the log in {}: {e}", dir.display()),
        (_, Err(e)) => eprintln!("guardkey: GUARDKEY_LOG={filter} is not a log filter: {e}"),
    }
}

/// A command's outcome as an exit code; its error said on standard error.
fn exit(result: std::result::Result<u8, guardkey::commands::CommandError>) -> Result<ExitCode> {
    match result {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(e) => {
            eprintln!("guardkey: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

async fn run_sim(args: SimArgs) -> Result<ExitCode> {
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        quotas: args.quotas,
        disabled_regions: args.disabled_regions.into_iter().collect(),
        hang_regions: args.hang_regions.into_iter().collect(),
        denials: args.denials,
        failures: Vec::new(),
    };
    let config = SimConfig {
        account: args.account,
        seed: args.seed.clone(),
        faults,
        settle: Duration::from_millis(args.settle_ms),
        caller: args.caller,
        partition: args.partition.clone(),
        ..SimConfig::default()
    };
    // What the user can cause (a taken port) is one plain line; eyre's report is for bugs.
    let sim = match Simulator::new(config) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("guardkey: cannot seed the simulator: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let running = match sim.serve(addr).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!(
                "guardkey: cannot listen on {addr}: {e}. Is the port taken? Choose another with --port (0 picks a free one)."
            );
            return Ok(ExitCode::from(2));
        }
    };
    print_banner(&running, &args.seed);
    serve_until_ctrl_c(running).await
}

fn print_banner(running: &RunningSim, seed: &Seed) {
    let endpoint = running.endpoint();
    let guardrails = running.sim.with_world(|w| w.guardrail_count());
    let account = running.sim.account();
    let caller = running.sim.caller_arn();
    let home = guardkey::regions::regions_of(running.sim.partition())
        .and_then(|r| r.first().copied())
        .unwrap_or("us-east-1");
    let banner = format!(
        "guardkey sim: Bedrock, KMS, STS, IAM, Organizations and Security Hub on {endpoint} (seed {seed}, {guardrails} guardrails, account {account})
The access key below signs in as {caller}

Point a client at it:
  export AWS_ENDPOINT_URL={endpoint}
  export AWS_ACCESS_KEY_ID={SIM_ACCESS_KEY_ID}
  export AWS_SECRET_ACCESS_KEY={SIM_SECRET_ACCESS_KEY}
  export AWS_REGION={home} AWS_DEFAULT_REGION={home}

Then audit as Bedrock-003 says:
  aws sts get-caller-identity
  aws bedrock list-guardrails --region {home} --query 'guardrails[*].arn'
  aws bedrock get-guardrail --region {home} --guardrail-identifier ARN --query kmsKeyArn
  guardkey scan --endpoint-url {endpoint}

Press Ctrl-C to stop.
"
    );
    // The simulator keeps serving if whoever reads its output goes away.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes());
    let _ = out.flush();
}

async fn serve_until_ctrl_c(running: RunningSim) -> Result<ExitCode> {
    tokio::signal::ctrl_c().await.wrap_err("cannot wait for Ctrl-C")?;
    eprintln!(
        "guardkey sim: stopped after {} requests",
        running.sim.request_count()
    );
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
