class ProjectsController < ApplicationController
  def index
    @projects = current_user.projects.order(:name)
  end

  def destroy
    current_user.projects.find(params[:id]).destroy
    redirect_to projects_path
  end
end
