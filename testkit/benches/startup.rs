//! Start-up time of the test server (target: under 50 ms). Prints a report; asserts nothing.
//!
//! Run with `cargo bench -p testkit --bench startup`.

use std::time::{Duration, Instant};

use testkit::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET /version` over a raw TCP connection; true on an HTTP 200.
async fn first_answer(server: &TestServer) -> bool {
    let Ok(mut s) = tokio::net::TcpStream::connect(server.addr()).await else {
        return false;
    };
    let req = "GET /version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    buf.starts_with(b"HTTP/1.1 200")
}

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot build a tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    rt.block_on(async {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let report = |what: &str, mut samples: Vec<Duration>| {
            samples.sort();
            let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
            println!(
                "{what}, {} runs: min {:.2} ms, median {:.2} ms, mean {:.2} ms, max {:.2} ms (target < 50 ms)",
                samples.len(),
                ms(samples[0]),
                ms(samples[samples.len() / 2]),
                mean,
                ms(samples[samples.len() - 1])
            );
        };
        let (mut started, mut answered, mut with_client) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..50 {
            let t = Instant::now();
            let server = match TestServer::start().await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("server did not start: {e}");
                    std::process::exit(1);
                }
            };
            started.push(t.elapsed());
            if !first_answer(&server).await {
                eprintln!("no answer to GET /version");
                std::process::exit(1);
            }
            answered.push(t.elapsed());
            if let Ok(c) = server.client() {
                let _ = c.apiserver_version().await;
            }
            with_client.push(t.elapsed());
        }
        report("TestServer::start() returned", started);
        report("start + first HTTP answer (GET /version)", answered);
        report("start + kube::Client built + first kube answer", with_client);
        let t = Instant::now();
        let parallel = futures::future::join_all((0..16).map(|_| TestServer::start())).await;
        let ok = parallel.iter().filter(|s| s.is_ok()).count();
        println!("16 servers started in parallel in {:.2} ms ({ok} ok)", ms(t.elapsed()));
    });
}
