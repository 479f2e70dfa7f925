package store

// Item is one stock-keeping unit.
type Item struct {
	SKU      string
	Name     string
	Quantity int
}

// Store reads items from the database file.
type Store struct{ path string }

// Open returns the store at path.
func Open(path string) *Store { return &Store{path: path} }

// All returns every item.
func (s *Store) All() []Item { return nil }
