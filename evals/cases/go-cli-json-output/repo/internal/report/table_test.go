package report

import (
	"bytes"
	"strings"
	"testing"

	"example.com/inventory/internal/store"
)

func TestTable(t *testing.T) {
	var out bytes.Buffer
	Table(&out, []store.Item{{SKU: "A1", Name: "Bolt", Quantity: 3}})
	if !strings.Contains(out.String(), "Bolt") {
		t.Fatal(out.String())
	}
}
