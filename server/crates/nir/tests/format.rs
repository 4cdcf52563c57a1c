use neuride_nir::{read, write};

#[test]
fn probe() {
    for f in ["a.nir", "cnn.nir"] {
        let bytes =
            std::fs::read(format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let r = read(&bytes);
        println!("{f}: {:#?}", r.problems);
        let doc = r.document.unwrap();
        println!("{}", serde_json::to_string(&doc).unwrap());
        let again = read(&write(&doc).unwrap());
        assert_eq!(again.document.unwrap(), doc);
    }
}
