//! deploy/switchyard.service: `systemd-analyze verify` accepts it (with `ExecStart` pointed at
//! the binary cargo built, since /usr/local/bin/switchyard is not installed on a build
//! machine), and it keeps the hardening docs/deployment.md promises. Without
//! `systemd-analyze` the verify step is skipped with a message; the content checks still run.

#![expect(
    clippy::unwrap_used,
    reason = "test: a setup failure should fail the test loudly"
)]

use std::process::Command;

fn unit() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/switchyard.service"
    );
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_systemd_unit_is_hardened_and_keeps_its_state_in_the_state_directory() {
    let text = unit();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for want in [
        "DynamicUser=yes",
        "StateDirectory=switchyard",
        "WorkingDirectory=/var/lib/switchyard",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "KillSignal=SIGTERM",
        "LoadCredential=switchyard.toml:/etc/switchyard/switchyard.toml",
    ] {
        assert!(
            lines.contains(&want),
            "deploy/switchyard.service lacks `{want}`"
        );
    }
    let exec = lines.iter().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(
        exec.contains(" serve --config ${CREDENTIALS_DIRECTORY}/switchyard.toml"),
        "{exec}"
    );
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIP: systemd-analyze is not installed (apt-get install systemd); the unit's content is still checked"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("sy-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = unit().replace(
        "ExecStart=/usr/local/bin/switchyard ",
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_switchyard")),
    );
    let path = dir.join("switchyard.service");
    std::fs::write(&path, text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Lines about other units on the machine (their own warnings) are not ours.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("switchyard.service"))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}
