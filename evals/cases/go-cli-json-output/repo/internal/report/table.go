package report

import (
	"fmt"
	"io"

	"example.com/inventory/internal/store"
)

// Table prints items as aligned columns.
func Table(w io.Writer, items []store.Item) {
	fmt.Fprintf(w, "%-10s %-30s %8s\n", "SKU", "NAME", "QTY")
	for _, item := range items {
		fmt.Fprintf(w, "%-10s %-30s %8d\n", item.SKU, item.Name, item.Quantity)
	}
}
