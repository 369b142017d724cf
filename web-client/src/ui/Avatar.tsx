import { hueFor, initials } from './people';

export function Avatar({ name, id, online, size = 40, group = false }: { name: string; id: number; online?: boolean; size?: number; group?: boolean }) {
  return (
    <span className={`avatar${group ? ' group' : ''}`} style={{ width: size, height: size, fontSize: size * 0.38, ['--hue' as string]: hueFor(id) }} aria-hidden="true">
      {initials(name)}
      {online !== undefined && <span className={`presence-dot ${online ? 'on' : 'off'}`} />}
    </span>
  );
}
