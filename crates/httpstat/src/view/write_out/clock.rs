//! `%time{format}`: a UTC time in `strftime`'s common conversions, and `%f` for microseconds
//! as curl adds it. No date crate is in the tool's dependencies for this one use: the
//! calendar arithmetic is the civil-from-days algorithm.

use std::time::{SystemTime, UNIX_EPOCH};

/// The proleptic Gregorian date of the day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `format` for `at`, in UTC: `%Y %m %d %H %M %S %f %s %j %F %T %z %Z %%`; anything else is
/// printed as it is.
pub(crate) fn format_utc(format: &str, at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (of_day / 3_600, of_day % 3_600 / 60, of_day % 60);
    let day_of_year = days - days_before_year(year) + 1;
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&year.to_string()),
            Some('m') => out.push_str(&format!("{month:02}")),
            Some('d') => out.push_str(&format!("{day:02}")),
            Some('H') => out.push_str(&format!("{h:02}")),
            Some('M') => out.push_str(&format!("{m:02}")),
            Some('S') => out.push_str(&format!("{s:02}")),
            Some('f') => out.push_str(&format!("{:06}", since.subsec_micros())),
            Some('s') => out.push_str(&secs.to_string()),
            Some('j') => out.push_str(&format!("{day_of_year:03}")),
            Some('F') => out.push_str(&format!("{year}-{month:02}-{day:02}")),
            Some('T') => out.push_str(&format!("{h:02}:{m:02}:{s:02}")),
            Some('z') => out.push_str("+0000"),
            Some('Z') => out.push_str("UTC"),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Days from 1970-01-01 to the first of January of `year`.
fn days_before_year(year: i64) -> i64 {
    let y = year - 1;
    365 * (year - 1970) + (y / 4 - y / 100 + y / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_times_format_as_strftime_does() {
        // 2026-12-07T11:23:32.000250Z
        let at = UNIX_EPOCH + Duration::new(1_796_642_612, 250_000);
        assert_eq!(
            format_utc("%Y-%m-%dT%H:%M:%S.%fZ %j %%", at),
            "2026-12-07T11:23:32.000250Z 341 %"
        );
        assert_eq!(
            format_utc("%F %T %z %Z %q", UNIX_EPOCH),
            "1970-01-01 00:00:00 +0000 UTC %q"
        );
        // A leap day.
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(format_utc("%F %j", leap), "2000-02-29 060");
    }
}
