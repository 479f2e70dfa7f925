package main

import (
	"flag"
	"fmt"
	"os"

	"example.com/inventory/internal/report"
	"example.com/inventory/internal/store"
)

func main() {
	list := flag.NewFlagSet("list", flag.ExitOnError)
	if len(os.Args) < 2 || os.Args[1] != "list" {
		fmt.Fprintln(os.Stderr, "usage: inventory list")
		os.Exit(2)
	}
	_ = list.Parse(os.Args[2:])
	items := store.Open("inventory.db").All()
	report.Table(os.Stdout, items)
}
