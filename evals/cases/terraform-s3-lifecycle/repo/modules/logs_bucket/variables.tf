variable "name" {
  type        = string
  description = "Bucket name"
}
