//! `--certs` and `%{certs}` on chains the test makes.

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certs_shows_the_chain_the_handshake_presented() {
    let pki = TestPki::new("certs CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["127.0.0.1"], false), &[b"h2"])).await;
    let ca = std::env::temp_dir().join(format!("httpstat-certs-{}.pem", std::process::id()));
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let url = server.url("127.0.0.1", "/").replace("http:", "https:");
    let out = httpstat_example()
        .args([
            "--certs",
            "--cacert",
            &ca.display().to_string(),
            "-w",
            "num_certs=%{num_certs}\\n%{certs}",
            &url,
        ])
        .output()
        .unwrap();
    std::fs::remove_file(&ca).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let block: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "Certificates")
        .take(9)
        .collect();
    assert_eq!(
        block[..4],
        [
            "Certificates",
            "  0: CN=127.0.0.1",
            "     issuer:  CN=certs CA",
            "     names:   IP:127.0.0.1",
        ],
        "{stdout}"
    );
    let days: i64 = block[4]
        .rsplit_once('(')
        .and_then(|(_, d)| d.strip_suffix(" days left)"))
        .unwrap_or_else(|| panic!("{stdout}"))
        .parse()
        .unwrap();
    assert!(days > 300, "rcgen's default validity: {stdout}");
    assert_eq!(block[5], "     key:     EC 256 bits");
    assert_eq!(block[6], "  1: CN=certs CA", "the authority, second");
    assert!(
        stdout.contains("num_certs=2\nSubject:CN=127.0.0.1\nIssuer:CN=certs CA\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Cert:-----BEGIN CERTIFICATE-----\n"),
        "{stdout}"
    );

    // An expired leaf, let through by -k, says how long ago.
    let expired =
        TestServer::start_tls(pki.server_config(pki.leaf(&["127.0.0.1"], true), &[b"h2"])).await;
    let url = expired.url("127.0.0.1", "/").replace("http:", "https:");
    let out = httpstat_example()
        .args(["-k", "--certs", "-w", "%{ssl_verify_result}", &url])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(" days ago)"), "{stdout}");
    assert!(
        stdout.ends_with("10"),
        "OpenSSL's code for an expired certificate: {stdout}"
    );
}
