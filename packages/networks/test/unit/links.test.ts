import { describe, expect, it } from 'vitest';
import { linkEnvironment } from '../../src/index.js';

describe('legacy link variables', () => {
  it('are what dockerd 20.10 gives `--link lk-web:my-web` (ports 80, 81, 82/udp, 443; FOO and HOME set)', () => {
    // Captured from dockerd 20.10: `docker run --expose 80 --expose 81 --expose 82/udp --expose 443 -e FOO=bar
    // -e HOME=/x --name lk-web ...`, then `docker run --link lk-web:my-web busybox env`, in its order. The range
    // that runs from 80/tcp into 82/udp is dockerd's own quirk (it ignores the protocol when it groups).
    const ip = '172.17.0.3';
    expect(linkEnvironment([{ name: '/x/my-web', ip, env: ['FOO=bar', 'HOME=/x', 'PATH=/bin'], exposedPorts: ['443/tcp', '82/udp', '80/tcp', '81/tcp'] }])).toEqual([
      `MY_WEB_PORT=tcp://${ip}:80`,
      `MY_WEB_PORT_80_TCP_START=tcp://${ip}:80`,
      `MY_WEB_PORT_80_TCP_ADDR=${ip}`,
      'MY_WEB_PORT_80_TCP_PROTO=tcp',
      'MY_WEB_PORT_80_TCP_PORT_START=80',
      `MY_WEB_PORT_80_UDP_END=udp://${ip}:82`,
      'MY_WEB_PORT_80_UDP_PORT_END=82',
      `MY_WEB_PORT_80_TCP=tcp://${ip}:80`,
      'MY_WEB_PORT_80_TCP_PORT=80',
      `MY_WEB_PORT_81_TCP=tcp://${ip}:81`,
      `MY_WEB_PORT_81_TCP_ADDR=${ip}`,
      'MY_WEB_PORT_81_TCP_PORT=81',
      'MY_WEB_PORT_81_TCP_PROTO=tcp',
      `MY_WEB_PORT_82_UDP=udp://${ip}:82`,
      `MY_WEB_PORT_82_UDP_ADDR=${ip}`,
      'MY_WEB_PORT_82_UDP_PORT=82',
      'MY_WEB_PORT_82_UDP_PROTO=udp',
      `MY_WEB_PORT_443_TCP=tcp://${ip}:443`,
      `MY_WEB_PORT_443_TCP_ADDR=${ip}`,
      'MY_WEB_PORT_443_TCP_PORT=443',
      'MY_WEB_PORT_443_TCP_PROTO=tcp',
      'MY_WEB_NAME=/x/my-web',
      'MY_WEB_ENV_FOO=bar',
    ]);
  });

  it('a container without exposed ports gives its name and env only; tcp comes first on one number', () => {
    expect(linkEnvironment([{ name: '/a/db', ip: '10.0.0.2', env: ['X=1=2'], exposedPorts: [] }])).toEqual(['DB_NAME=/a/db', 'DB_ENV_X=1=2']);
    expect(linkEnvironment([{ name: '/a/db', ip: '10.0.0.2', env: [], exposedPorts: ['53/udp', '53/tcp'] }])[0]).toBe('DB_PORT=tcp://10.0.0.2:53');
  });
});
