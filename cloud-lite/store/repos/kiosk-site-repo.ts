export interface KioskSiteRecord {
  kioskId: string;
  name: string;
  address: string;
  lat: number;
  lng: number;
}

/** Where kiosks stand (name, address, position) for the renters' map. */
export interface KioskSiteRepo {
  upsert(s: KioskSiteRecord): Promise<void>;
  get(kioskId: string): Promise<KioskSiteRecord | undefined>;
  list(): Promise<KioskSiteRecord[]>;
}
