use relay::config::Config;

#[test]
fn loads_the_example() {
    let config = Config::load("tests/example.toml").unwrap();
    assert_eq!(config.port, 8080);
}
