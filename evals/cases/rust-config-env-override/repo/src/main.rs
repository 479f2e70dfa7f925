use relay::config::Config;
use relay::server::serve;

fn main() {
    let config = Config::load("config.toml").expect("config.toml");
    serve(&config);
}
