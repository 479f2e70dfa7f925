require "rails_helper"

RSpec.describe Project do
  it "needs a name" do
    expect(Project.new(name: nil)).not_to be_valid
  end
end
