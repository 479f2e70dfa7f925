export async function listVehicles(): Promise<unknown[]> {
  const response = await fetch("/api/vehicles");
  return response.json();
}
