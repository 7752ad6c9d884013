use super::*;

/// A flood of sign-ins and registrations queues: never more hashes at once than cores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_more_hashes_at_once_than_the_bound() {
    let phc = hash_blocking("una password qualsiasi").unwrap();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let phc = phc.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                hash(format!("password {i}")).await.map(|_| ()).unwrap();
            } else {
                assert!(!verify(format!("password {i}"), phc).await);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let peak = peak_concurrent_hashes();
    assert!(
        peak >= 1 && peak <= hash_bound(),
        "peak {peak}, bound {}",
        hash_bound()
    );
}
