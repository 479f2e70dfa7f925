module "logs_bucket" {
  source = "./modules/logs_bucket"
  name   = "acme-access-logs"
}

module "network" {
  source = "./modules/network"
  cidr   = "10.20.0.0/16"
}
