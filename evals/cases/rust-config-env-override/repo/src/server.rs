use crate::config::Config;

pub fn serve(config: &Config) {
    println!("listening on {}", config.port);
}
