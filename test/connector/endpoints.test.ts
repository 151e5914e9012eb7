import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publishedEndpoints, ROLE_ENDPOINTS, roleEndpoints } from '../../src/connector/endpoints.js';

const MP = {
  type: 'managementPoint' as const,
  roleId: '72057594037927939',
  url: 'https://mp01.corp.contoso.com/',
};
const SUP = {
  type: 'softwareUpdatePoint' as const,
  roleId: '72057594037927940',
  url: 'https://sup01.corp.contoso.com:8531',
};

test('a management point publishes its standard endpoints under CCM_Proxy_MutualAuth/<role id>', () => {
  const eps = roleEndpoints(MP);
  assert.equal(
    eps.map((e) => e.external),
    ROLE_ENDPOINTS.managementPoint.map((n) => `/CCM_Proxy_MutualAuth/72057594037927939/${n}`),
  );
  assert.equal(eps[0], {
    external: '/CCM_Proxy_MutualAuth/72057594037927939/CCM_System',
    internal: 'https://mp01.corp.contoso.com/CCM_System',
  });
  assert.equal(
    [...ROLE_ENDPOINTS.managementPoint],
    ['CCM_System', 'CCM_System_TokenAuth', 'CCM_Incoming', 'CCM_STS', 'CCM_Client', 'SMS_MP', 'BGB'],
  );
});

test('a software update point publishes ClientWebService, SimpleAuthWebService, Content, selfupdate', () => {
  assert.equal(
    roleEndpoints(SUP).map((e) => e.internal),
    ['ClientWebService', 'SimpleAuthWebService', 'Content', 'selfupdate'].map(
      (n) => `https://sup01.corp.contoso.com:8531/${n}`,
    ),
  );
});

test('explicit endpoints add to the generated ones and replace one with the same prefix, whatever its case', () => {
  const eps = publishedEndpoints({
    roles: [MP, SUP],
    endpoints: [
      {
        external: '/CCM_Proxy_MutualAuth/72057594037927939/ccm_system',
        internal: 'https://mp02.corp.contoso.com/CCM_System',
        maxContentLength: 1024,
      },
      { external: '/custom/app', internal: 'https://app.corp.contoso.com/app' },
    ],
  });
  assert.is(eps.length, 7 + 4 + 1);
  const system = eps.filter((e) => e.external.toLowerCase().endsWith('/ccm_system'));
  assert.equal(system, [
    {
      external: '/CCM_Proxy_MutualAuth/72057594037927939/ccm_system',
      internal: 'https://mp02.corp.contoso.com/CCM_System',
      maxContentLength: 1024,
    },
  ]);
  assert.equal(eps.at(-1), { external: '/custom/app', internal: 'https://app.corp.contoso.com/app' });
});

test.run();
