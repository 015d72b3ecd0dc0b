//! `--certs`: the peer's chain as the handshake presented it, a block per certificate
//! (subject, issuer, names, validity and the days left, key type); and `%{certs}` in curl's
//! layout (a `Name:value` line per field, a blank line between certificates).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

/// What `--certs` shows of one certificate.
pub(crate) struct CertSummary {
    pub(crate) subject: String,
    pub(crate) issuer: String,
    pub(crate) names: Vec<String>,
    pub(crate) not_before: String,
    pub(crate) not_after: String,
    /// Whole days from `now` to the end of its validity (negative once expired).
    pub(crate) days_left: i64,
    pub(crate) key: String,
    pub(crate) serial: String,
    pub(crate) signature: String,
}

/// `der` summed up as of `now`; `None` for bytes that are not a certificate.
pub(crate) fn summary(der: &[u8], now: SystemTime) -> Option<CertSummary> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(format!("DNS:{dns}")),
                    GeneralName::IPAddress(ip) => ip_text(ip).map(|ip| format!("IP:{ip}")),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let not_after = cert.validity().not_after.timestamp();
    let key = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {} bits", rsa.key_size()),
        Ok(PublicKey::EC(ec)) => format!("EC {} bits", ec.key_size()),
        _ => match cert
            .public_key()
            .algorithm
            .algorithm
            .to_id_string()
            .as_str()
        {
            "1.3.101.112" => "Ed25519".to_owned(),
            "1.3.101.113" => "Ed448".to_owned(),
            other => other.to_owned(),
        },
    };
    Some(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        not_before: cert.validity().not_before.to_string(),
        not_after: cert.validity().not_after.to_string(),
        days_left: (not_after - now).div_euclid(86_400),
        key,
        serial: cert.raw_serial_as_string(),
        signature: cert.signature_algorithm.algorithm.to_id_string(),
    })
}

/// An IPv4 or IPv6 address from its SAN bytes.
fn ip_text(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// `--certs`' block for `chain`, as of `now`.
pub(crate) fn text(chain: &[Vec<u8>], now: SystemTime) -> String {
    let mut out = String::from("Certificates\n");
    for (i, der) in chain.iter().enumerate() {
        let Some(c) = summary(der, now) else {
            let _ = writeln!(out, "  {i}: not a certificate ({} bytes)", der.len());
            continue;
        };
        let _ = writeln!(out, "  {i}: {}", c.subject);
        let _ = writeln!(out, "     issuer:  {}", c.issuer);
        if !c.names.is_empty() {
            let _ = writeln!(out, "     names:   {}", c.names.join(", "));
        }
        let left = if c.days_left < 0 {
            format!("expired {} days ago", -c.days_left)
        } else {
            format!("{} days left", c.days_left)
        };
        let _ = writeln!(
            out,
            "     valid:   {} to {} ({left})",
            c.not_before, c.not_after
        );
        let _ = writeln!(out, "     key:     {}", c.key);
    }
    out
}

/// `%{certs}`: each certificate's fields as `Name:value` lines, as curl prints them, with its
/// PEM last; a blank line between certificates.
pub(crate) fn curl_text(chain: &[Vec<u8>]) -> String {
    use base64::Engine as _;
    let mut blocks = Vec::new();
    for der in chain {
        let Some(c) = summary(der, SystemTime::now()) else {
            continue;
        };
        let pem = base64::engine::general_purpose::STANDARD.encode(der);
        let pem: Vec<&str> = pem
            .as_bytes()
            .chunks(64)
            .map(|l| std::str::from_utf8(l).unwrap_or_default())
            .collect();
        blocks.push(format!(
            "Subject:{}\nIssuer:{}\nSerial Number:{}\nSignature Algorithm:{}\nPublic Key Algorithm:{}\nX509v3 Subject Alternative Name:{}\nStart date:{}\nExpire date:{}\nCert:-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            c.subject,
            c.issuer,
            c.serial,
            c.signature,
            c.key,
            c.names.join(", "),
            c.not_before,
            c.not_after,
            pem.join("\n")
        ));
    }
    blocks.join("\n")
}
