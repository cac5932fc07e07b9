use std::path::PathBuf;
fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "examples-repo".into()));
    let src = eksync::adapters::fs::read_dir(&root, &Default::default()).unwrap();
    let l = eksync::core::load::load(&src);
    for d in &l.diagnostics { println!("{d}"); }
    println!("clusters={} policies={} objects={}", l.model.clusters.len(), l.model.role_policies.len(), l.model.objects.len());
    for o in &l.model.objects { println!("  {} refs={}", o.key, o.refs.len()); }
}
