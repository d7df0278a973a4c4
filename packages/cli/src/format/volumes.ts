/** `volume ls` rows. */
export interface VolumeSummary {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
  Scope?: string;
  UsageData?: { Size?: number; RefCount?: number } | null;
}

export const VOLUME_HEADER = ['DRIVER', 'VOLUME NAME'];

export function volumeRow(v: VolumeSummary): string[] {
  return [v.Driver ?? 'local', v.Name];
}

/** docker's `volume ls --format json` object. */
export function volumeJson(v: VolumeSummary): Record<string, string> {
  return {
    Availability: 'N/A',
    Driver: v.Driver ?? 'local',
    Group: 'N/A',
    Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(','),
    Links: 'N/A',
    Mountpoint: v.Mountpoint ?? '',
    Name: v.Name,
    Scope: v.Scope ?? 'local',
    Size: 'N/A',
    Status: 'N/A',
  };
}
