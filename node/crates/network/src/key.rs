//! The node's libp2p identity: an ed25519 secret, kept hex-encoded in `<base>/network/node_key`
//! (created once, mode 0600) unless `--node-key` gives one.

use std::fs;
use std::io::Write;
use std::path::Path;

use libp2p::identity::Keypair;
use rand::RngCore;

use super::NetworkError;

/// The file name of the node key inside the network directory.
pub const NODE_KEY_FILE: &str = "node_key";

/// Parses a 32-byte ed25519 secret given as 64 hex digits (`0x` optional).
pub fn parse_node_key(hex_key: &str) -> Result<Keypair, NetworkError> {
    let digits = hex_key.trim();
    let digits = digits.strip_prefix("0x").unwrap_or(digits);
    let mut secret = [0u8; 32];
    hex::decode_to_slice(digits, &mut secret).map_err(|_| NetworkError::BadNodeKey)?;
    Keypair::ed25519_from_bytes(secret).map_err(|_| NetworkError::BadNodeKey)
}

/// The node key: `explicit` if given, else the one in `dir/node_key`, created (0600) if absent.
pub fn load_or_create(dir: &Path, explicit: Option<&str>) -> Result<Keypair, NetworkError> {
    if let Some(hex_key) = explicit {
        return parse_node_key(hex_key);
    }
    let path = dir.join(NODE_KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            return parse_node_key(&text).map_err(|_| NetworkError::BadNodeKeyFile(path.clone()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(NetworkError::io(&path, e)),
    }
    fs::create_dir_all(dir).map_err(|e| NetworkError::io(dir, e))?;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let text = hex::encode(secret);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .map_err(|e| NetworkError::io(&path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| NetworkError::io(&path, e))?;
    tracing::info!(target: "net", path = %path.display(), "generated a new node key");
    Keypair::ed25519_from_bytes(secret).map_err(|_| NetworkError::BadNodeKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().expect("temp dir");
        let net = dir.path().join("network");
        let first = load_or_create(&net, None).expect("created");
        let text = fs::read_to_string(net.join(NODE_KEY_FILE)).expect("written");
        assert_eq!(text.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(net.join(NODE_KEY_FILE))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = load_or_create(&net, None).expect("loaded");
        assert_eq!(first.public().to_peer_id(), second.public().to_peer_id());
        assert_eq!(
            fs::read_to_string(net.join(NODE_KEY_FILE)).expect("kept"),
            text
        );
        // An explicit key wins and is not written.
        let explicit = parse_node_key(&"11".repeat(32)).expect("valid");
        let third = load_or_create(&net, Some(&"11".repeat(32))).expect("explicit");
        assert_eq!(explicit.public(), third.public());
        assert_ne!(third.public().to_peer_id(), first.public().to_peer_id());
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(matches!(
            parse_node_key("xyz"),
            Err(NetworkError::BadNodeKey)
        ));
        assert!(matches!(
            parse_node_key("11"),
            Err(NetworkError::BadNodeKey)
        ));
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(NODE_KEY_FILE), "garbage").expect("written");
        assert!(matches!(
            load_or_create(dir.path(), None),
            Err(NetworkError::BadNodeKeyFile(_))
        ));
    }
}
