//! Where attached files are kept ([`FileStore`]: a local directory by default, from
//! `files_dir`) and the hook that may refuse one before it is accepted ([`Scanner`]: nothing by
//! default; an antivirus goes here).

use std::path::PathBuf;

/// Keeps files by key. Keys are made by the services (`<commune>/<uuid>`), never from names
/// people give.
#[async_trait::async_trait]
pub trait FileStore: Send + Sync {
    async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()>;
    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>>;
    async fn delete(&self, key: &str) -> std::io::Result<()>;
}

/// Files under one directory, written whole then renamed into place (a reader never sees half
/// a file) and synced before the key is handed back.
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> std::io::Result<PathBuf> {
        let ok = !key.is_empty()
            && key.split('/').all(|p| {
                !p.is_empty()
                    && p != "."
                    && p != ".."
                    && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !ok {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad file key",
            ));
        }
        Ok(self.root.join(key))
    }
}

#[async_trait::async_trait]
impl FileStore for LocalDir {
    async fn put(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let tmp = path.with_extension("part");
        let mut f = tokio::fs::File::create(&tmp).await?;
        f.write_all(bytes).await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, &path).await
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path(key)?).await
    }

    async fn delete(&self, key: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

/// Looks at a file before it is accepted; `Err` with the reason refuses it.
#[async_trait::async_trait]
pub trait Scanner: Send + Sync {
    async fn scan(&self, name: &str, bytes: &[u8]) -> Result<(), String>;
}

/// Accepts everything (the default: no antivirus configured).
pub struct NoScan;

#[async_trait::async_trait]
impl Scanner for NoScan {
    async fn scan(&self, _name: &str, _bytes: &[u8]) -> Result<(), String> {
        Ok(())
    }
}
