ActiveRecord::Schema[7.1].define(version: 2024_05_01_000000) do
  create_table "projects" do |t|
    t.string "name", null: false
    t.bigint "owner_id", null: false
    t.timestamps
  end
end
